from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs):
    from syncer.tasks import ensure_schedules

    ensure_schedules()


class SyncerConfig(AppConfig):
    name = "syncer"
    verbose_name = "Heify sync"

    def ready(self):
        from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

        from qa import heify
        from syncer.gateway import GATEWAY
        from syncer.tasks import job_enqueued, job_finished, job_started

        heify.connect(GATEWAY)  # the domain reaches Heify through qa.heify only
        post_migrate.connect(_ensure_schedules, sender=self)
        pre_enqueue.connect(job_enqueued, dispatch_uid="syncer.job_enqueued")
        pre_execute.connect(job_started, dispatch_uid="syncer.job_started")
        post_execute_in_worker.connect(job_finished, dispatch_uid="syncer.job_finished")
