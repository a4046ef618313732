"""Request bodies: DRF's parsers, with a bad body always a 400 in the one error shape, never a 500.

JSON is read by qa.rules.load_json, within the limits every entry point
shares (depth, numbers, NaN, NUL); the body's size is Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (413, see qa.api.errors).
"""

from django.core.exceptions import ValidationError
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from qa import rules


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            # The serializers check the values (StorableJSONField, CharField), each under its field's name.
            return rules.load_json(stream.read(), field="body", max_bytes=None)
        except ValidationError as exc:
            raise ParseError(f"JSON parse error - {' '.join(exc.messages)}") from None


PARSER_CLASSES = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
