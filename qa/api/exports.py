"""CSV and .xlsx from the API's lists: `?format=csv` or `Accept: text/csv` (and `xlsx`), with the list's filters.

An export holds every row the filters select, in the list's order, with no
pagination (`limit` and `cursor` do not apply); it streams (qa.spreadsheets). Only
lists export: a single object answers 404 to `?format=csv`, as DRF answers any
format a view does not offer. Errors stay JSON whatever was asked for, so a
script reads a 400 or a 403 the same way as from any other request.

The transcriptions' export is the admin's (qa.reviews.exports). The other lists' columns are the serializer's
own fields, named as the API names them (a nested object's as `sync.state`), their values as a person reads
them: dates as dates, criteria and extraction fields one per line with their types as the admin shows them,
a sync state in words; other nested values as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from qa import spreadsheets
from qa.mirror import rules
from qa.mirror.models import CRITERION_TYPE_CHOICES, EXTRACTION_TYPE_CHOICES, SyncState


class _ExportRenderer(BaseRenderer):
    """Chosen by content negotiation only: a list answers a stream itself, so no body is ever rendered here."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)  # not reached: ExportListMixin answers errors as JSON


class CSVRenderer(_ExportRenderer):
    media_type = "text/csv"
    format = spreadsheets.CSV
    charset = "utf-8"


class XLSXRenderer(_ExportRenderer):
    media_type = spreadsheets.CONTENT_TYPES[spreadsheets.XLSX]
    format = spreadsheets.XLSX
    charset = None


EXPORT_MEDIA_TYPES = (CSVRenderer.media_type, XLSXRenderer.media_type)


class ExportListMixin:
    """For a viewset whose `list` may answer a file: `export_table(request, queryset)` says what it holds."""

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) == "list":
            renderers += [CSVRenderer(), XLSXRenderer()]
        return renderers

    def export_format(self, request) -> str | None:
        renderer = getattr(request, "accepted_renderer", None)
        return renderer.format if isinstance(renderer, _ExportRenderer) else None

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and self.export_format(request):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        fmt = self.export_format(request)
        if fmt:
            return spreadsheets.streaming_response(self.export_table(request, queryset), fmt)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def export_table(self, request, queryset) -> spreadsheets.Table:
        """The serializer's own fields, one column each (a nested object's fields each one too)."""
        columns = export_columns(self.get_serializer())

        def rows():
            for obj in queryset.iterator(chunk_size=spreadsheets.BATCH):
                data = self.get_serializer(obj).data
                yield [readable(path, field, dig(data, path)) for _, path, field in columns]

        return spreadsheets.Table(title=self.basename.replace("_", " ") + "s",
                                  headers=[header for header, _, _ in columns], rows=rows())


Column = tuple[str, tuple[str, ...], serializers.Field]


def export_columns(serializer: serializers.Serializer) -> list[Column]:
    """(header, path in the data, field) of each column: a field, or each field of a nested object (one level)."""
    columns: list[Column] = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer):
            columns += [(f"{name}.{inner}", (name, inner), inner_field) for inner, inner_field in field.fields.items()]
        else:
            columns.append((name, (name,), field))
    return columns


def dig(data: dict, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _type_label(choices) -> Callable[[str], str]:
    labels = dict(choices)
    return lambda kind: labels.get(str(kind).lower(), kind)


_CRITERION_TYPE, _FIELD_TYPE = _type_label(CRITERION_TYPE_CHOICES), _type_label(EXTRACTION_TYPE_CHOICES)
_SYNC_STATES = dict(SyncState.choices)


def _criterion_line(criterion: dict) -> str:
    """As the evaluator's page shows a criterion: its name, type, weight (or critical) and description."""
    kind, weight = _CRITERION_TYPE(criterion.get("type")), criterion.get("weight")
    if isinstance(weight, Decimal):
        weight = format(weight.normalize(), "f")  # 20, not 20.00
    about = (gettext("%(type)s · critical") % {"type": kind} if str(criterion.get("type")).lower() == rules.STRICT
             else gettext("%(type)s · weight %(weight)s") % {"type": kind, "weight": weight})
    description = criterion.get("description")
    return f"{criterion.get('name')} ({about})" + (f": {description}" if description else "")


def _field_line(field: dict) -> str:
    description = field.get("description")
    return f"{field.get('name')} ({_FIELD_TYPE(field.get('type'))})" + (f": {description}" if description else "")


# A list of objects as lines a person reads, by the API's field name.
LINES: dict[str, Callable[[dict], str]] = {"criteria": _criterion_line, "extraction_fields": _field_line}


def readable(path: tuple[str, ...], field: serializers.Field, value: Any) -> Any:
    """One value of a column as a person reads it (qa.spreadsheets writes dates, numbers and text)."""
    if value is None:
        return None
    if isinstance(field, serializers.DateTimeField):
        return parse_datetime(value) if isinstance(value, str) else value
    if path == ("sync", "state"):
        return str(_SYNC_STATES.get(value, value))
    if path[-1] in LINES and isinstance(value, list):
        return "\n".join(LINES[path[-1]](item) if isinstance(item, dict) else str(item) for item in value)
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value)):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)  # weights are Decimals
    return value
