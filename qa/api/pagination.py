"""Lists in Heify's own shape: {"data": [...], "next_cursor": "..." | null}, `limit` and `cursor`.

Cursor pagination needs no COUNT and no OFFSET, so a page costs the same on the
millionth row as on the first.
"""

from datetime import UTC
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

INVALID_CURSOR = gettext_lazy("Not a cursor this API gave out; start again without one, or pass the last page's "
                              "next_cursor.")
MAX_LIMIT = 500


def _valid_position(model, ordering, position: str) -> bool:
    """Whether a cursor's position can be compared with the first ordering column without a database error."""
    if "\x00" in position:  # no text column of PostgreSQL can hold NUL
        return False
    try:
        field = model._meta.get_field(ordering[0].lstrip("-"))
    except FieldDoesNotExist:
        return True
    try:
        value = field.to_python(position)
        if isinstance(field, models.DateTimeField):
            if timezone.is_naive(value):
                return False
            value.astimezone(UTC)  # years 1 and 9999 overflow on the way to UTC
        elif isinstance(field, models.IntegerField):
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            return (low is None or value >= low) and (high is None or value <= high)
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        return False
    return value is not None


class HeifyCursorPagination(CursorPagination):
    page_size = 100
    max_page_size = MAX_LIMIT
    page_size_query_param = "limit"
    cursor_query_param = "cursor"
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        """A bad limit is refused, as Heify refuses it (DRF would quietly answer the default 100 rows)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [
                    gettext("limit must be a whole number from 1 to %(max)d, not %(value)r.")
                    % {"max": self.max_page_size, "value": raw}]},
                code="invalid_limit",
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                                       "default": self.page_size}
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size} (default {self.page_size})."
        return parameters

    def decode_cursor(self, request):
        """A cursor that is not one of ours is bad input (400, as Heify answers), not a missing page (404)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
        else:
            if cursor is None or cursor.position is None or _valid_position(self._model, self.ordering,
                                                                             cursor.position):
                return cursor
        raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}, code="invalid_cursor")

    def next_cursor(self) -> str | None:
        link = self.get_next_link()
        return parse_qs(urlsplit(link).query).get(self.cursor_query_param, [None])[0] if link else None

    def get_paginated_response(self, data):
        return Response({"data": data, "next_cursor": self.next_cursor()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "next_cursor"],
            "properties": {
                "data": schema,
                "next_cursor": {
                    "type": "string", "nullable": True, "description": "Pass as `cursor` for the next page.",
                },
            },
        }


class TranscriptionPagination(HeifyCursorPagination):
    ordering = ("-occurred_at", "-id")
