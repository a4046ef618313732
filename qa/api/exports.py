"""CSV and .xlsx from the API's lists: `?format=csv` or `Accept: text/csv` (and `xlsx`), with the list's filters.

An export holds every row the filters select, in the list's order, with no
pagination (`limit` and `cursor` do not apply); it streams (qa.spreadsheets). Only
lists export: a single object answers 404 to `?format=csv`, as DRF answers any
format a view does not offer. Errors stay JSON whatever was asked for, so a
script reads a 400 or a 403 the same way as from any other request.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from qa import spreadsheets


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
        """The serializer's own fields, one column each (nested values as JSON)."""
        serializer = self.get_serializer()
        headers = list(serializer.fields)

        def rows():
            for obj in queryset.iterator(chunk_size=spreadsheets.BATCH):
                data = self.get_serializer(obj).data
                yield [json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)  # weights are Decimals
                       if isinstance(value, (dict, list)) else value for value in (data.get(name) for name in headers)]

        return spreadsheets.Table(title=self.basename.replace("_", " ") + "s", headers=headers, rows=rows())
