"""Settings for the django-q2 clusters that tests/syncer/test_clusters.py starts as real processes.

Production settings, with one change: django-q2's guard looks for due schedules every 30 s of its
cycle, the first time after 30 s. A 30 s cycle makes it look at once when a cluster starts (and then
every 30 s), so two clusters started together race for the same due schedules within seconds.
"""

from heifyadmin.settings import *  # noqa: F403
from heifyadmin.settings import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "guard_cycle": 30, "workers": 2}
