"""Filters of the lists: what a BI job or a script asks for.

A filter given something it cannot mean answers 400 naming the filter and the
form it expects; it never answers an empty list that looks like "no calls".
Every list holds what Heify still has unless `gone=true` asks for what it no
longer has (GoneFilterSet).
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from qa.mirror import rules
from qa.mirror.models import STATUS_CHOICES, Configuration, Evaluator, Participant, Transcription

NO_GROUP = "none"
DATE_FORMAT = "YYYY-MM-DD"


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class ISODateFilter(django_filters.DateFilter):
    """A day written as YYYY-MM-DD only (Django would also take 03/02/2026, which reads two ways)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("error_messages", {"invalid": lazy(
            lambda: gettext("Enter a date as %(format)s, e.g. 2026-03-21.") % {"format": DATE_FORMAT}, str)()})
        super().__init__(*args, **kwargs)


class HeifyIdField(forms.CharField):
    """One object by its Heify id. Names are refused, not matched: tags are not unique, and an unknown
    value would otherwise answer an empty list, as if that agent had no calls.

    An id is known when the mirror holds the object or a call carries it (an agent deleted in Heify
    keeps her calls)."""

    def __init__(self, *args, model, label: str, call_field: str, **kwargs):
        self.model, self.object_label, self.call_field = model, label, call_field
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)  # after the built-in checks (no NUL, which PostgreSQL cannot compare)
        if not value or self.model.all_objects.filter(heify_id=value).exists() \
                or Transcription.all_objects.filter(**{self.call_field: value}).exists():
            return value
        # The value goes in params, never in the message itself: the message is %-formatted with them
        # (a value holding "%" would break it).
        message = _("Expects a %(object)s's Heify id (%(param)s); no %(object)s or call has the id %(value)s.")
        params = {"value": repr(value), "object": self.model._meta.verbose_name, "param": f"{self.object_label}_id"}
        named = list(self.model.objects.filter(tag__iexact=value).values_list("heify_id", flat=True)[:2])
        if len(named) == 1 and named[0]:
            message = _("Expects a %(object)s's Heify id (%(param)s); no %(object)s or call has the id %(value)s. "
                        "The %(object)s named so has the id %(id)s.")
            params["id"] = named[0]
        raise forms.ValidationError(message, code="unknown_id", params=params)


class HeifyIdFilter(django_filters.CharFilter):
    field_class = HeifyIdField

    def __init__(self, model, label: str, *, field_name: str, **kwargs):
        super().__init__(field_name=field_name, model=model, label=label, call_field=field_name,
                         help_text=lazy(lambda: gettext("a %(object)s's Heify id (%(param)s), not its name")
                                        % {"object": model._meta.verbose_name, "param": f"{label}_id"}, str)(),
                         **kwargs)


class GoneFilterSet(django_filters.FilterSet):
    """`gone`, which every list of mirrored objects takes. Absent or `false`: what Heify still has, the objects
    every figure counts; `true`: only what Heify no longer has, kept here as history (each with its gone_at)."""

    gone = django_filters.ChoiceFilter(
        choices=[("false", "false"), ("true", "true")], method="filter_gone",
        help_text=gettext_lazy("`true`: only the objects deleted in Heify (kept as history, with `gone_at`); "
                  "`false`, the default: those Heify still has"),
    )

    def filter_queryset(self, queryset):
        # Absent means false, so the filter applies whether or not it is given (a list's queryset holds both).
        return super().filter_queryset(queryset.filter(gone_at__isnull=self.form.cleaned_data.get("gone") != "true"))

    def filter_gone(self, queryset, name, value):
        return queryset  # applied by filter_queryset, given or not


class ConfigurationFilter(GoneFilterSet):
    class Meta:
        model = Configuration
        fields: list[str] = []


class EvaluatorFilter(GoneFilterSet):
    class Meta:
        model = Evaluator
        fields: list[str] = []


class ParticipantFilter(GoneFilterSet):
    class Meta:
        model = Participant
        fields: list[str] = []


class TranscriptionFilter(GoneFilterSet):
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES)
    group = django_filters.ChoiceFilter(
        choices=[(g, g) for g in rules.GROUPS] + [(NO_GROUP, "no group")], method="filter_group",
        help_text=lazy(lambda: gettext("%(groups)s, or `%(none)s` for calls in no group")
                       % {"groups": ", ".join(rules.GROUPS), "none": NO_GROUP}, str)(),
    )
    participant = HeifyIdFilter(Participant, "participant", field_name="participant_id")
    evaluator = HeifyIdFilter(Evaluator, "evaluator", field_name="evaluator_id")
    configuration = HeifyIdFilter(Configuration, "configuration", field_name="configuration_id")
    critical_fail = django_filters.BooleanFilter(field_name="critical_fail_triggered")
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=0, max_value=100)
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", min_value=0, max_value=100)
    date_from = ISODateFilter(method="filter_date_from", help_text=lazy(
        lambda: gettext("first day included (%(format)s)") % {"format": DATE_FORMAT}, str)())
    date_to = ISODateFilter(method="filter_date_to", help_text=lazy(
        lambda: gettext("last day included (%(format)s)") % {"format": DATE_FORMAT}, str)())

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
