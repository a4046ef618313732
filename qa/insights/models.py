"""What the insights keep: the weekly summaries already sent (so a rerun sends none twice)."""

from django.conf import settings
from django.db import models


class WeeklySummarySent(models.Model):
    """A weekly summary e-mailed to one manager: the job may run twice, the e-mail goes once."""

    week_start = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week_start", "user"], name="one_summary_per_week")]

    def __str__(self):
        return f"week of {self.week_start} to {self.user}"
