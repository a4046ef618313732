"""
WSGI config for heifyadmin project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'heifyadmin.settings')

application = get_wsgi_application()


def settle_collector() -> None:
    """Python's garbage collector set for serving, once the app is loaded.

    A web worker keeps what it has loaded now (modules, settings, models, the admin's registry) for its whole life,
    and each request makes and drops tens of thousands of objects. With Python's defaults the young generation was
    collected every 700 new objects and every full collection walked all ~250,000 loaded ones again: 13-17 % of a
    worker's CPU in the working day's mix (benchmarks/mix_cpu.py). What is loaded is set aside from the collector's
    passes, and the young generation waits for 20,000 new objects: most of a request's are freed by reference
    counting before then. Garbage in cycles is still collected, in fewer, larger passes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


settle_collector()
