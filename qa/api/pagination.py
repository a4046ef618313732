"""Lists in Heify's own shape: {"data": [...], "next_cursor": "..." | null}, `limit` and `cursor`.

Cursor pagination needs no COUNT and no OFFSET, so a page costs the same on the
millionth row as on the first.
"""

from urllib.parse import parse_qs, urlsplit

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class HeifyCursorPagination(CursorPagination):
    page_size = 100
    max_page_size = 500
    page_size_query_param = "limit"
    cursor_query_param = "cursor"
    ordering = "-id"

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
