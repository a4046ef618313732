"""The alerts' scheduled jobs (deliveries due, claims waiting too long), created by qa/apps.py after every
migrate; the jobs themselves are qa/alerts/services.py's."""

from __future__ import annotations

from qa import jobs

SCHEDULES = {
    # name: (function, minutes setting)
    "alerts deliveries due": ("qa.alerts.services.deliveries_due", "ALERT_EVERY_MINUTES"),
    "alerts claims waiting": ("qa.alerts.services.claims_waiting", "ALERT_EVERY_MINUTES"),
}


def schedules_ensure() -> None:
    jobs.schedules_ensure(SCHEDULES)
