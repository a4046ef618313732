"""Filters of the transcription list: what a BI job or a script asks for."""

from datetime import date, datetime, time, timedelta

import django_filters
from django.utils import timezone

from qa import rules
from qa.models import STATUS_CHOICES, Transcription

NO_GROUP = "none"


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class TranscriptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES)
    group = django_filters.ChoiceFilter(
        choices=[(g, g) for g in rules.GROUPS] + [(NO_GROUP, "no group")], method="filter_group",
        help_text=f"{', '.join(rules.GROUPS)}, or `{NO_GROUP}` for calls in no group",
    )
    participant = django_filters.CharFilter(field_name="participant_id", help_text="a participant_id")
    evaluator = django_filters.CharFilter(field_name="evaluator_id", help_text="an evaluator_id")
    configuration = django_filters.CharFilter(field_name="configuration_id", help_text="a configuration_id")
    critical_fail = django_filters.BooleanFilter(field_name="critical_fail_triggered")
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=0, max_value=100)
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", min_value=0, max_value=100)
    date_from = django_filters.DateFilter(method="filter_date_from", help_text="first day included (YYYY-MM-DD)")
    date_to = django_filters.DateFilter(method="filter_date_to", help_text="last day included (YYYY-MM-DD)")

    class Meta:
        model = Transcription
        fields: list[str] = []

    def filter_group(self, queryset, name, value):
        return queryset.filter(group__isnull=True) if value == NO_GROUP else queryset.filter(group=value)

    # Whole days, as ranges on the indexed column (not __date, which no index serves).
    def filter_date_from(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=_day_start(value))

    def filter_date_to(self, queryset, name, value):
        if value >= date.max:
            return queryset
        return queryset.filter(occurred_at__lt=_day_start(value + timedelta(days=1)))
