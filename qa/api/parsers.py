"""Request bodies are JSON, and only JSON (settings.REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

A body of any other type (a form, multipart data) answers 415 in the one error
shape, so the schema offers each body as application/json alone and the
clients generated from it send exactly that. A view that takes a file would
name its own parser_classes (DRF's MultiPartParser); none does today (uploads
go through the admin).

JSON is read by qa.mirror.rules.load_json, within the limits every entry point
shares (depth, numbers, NaN, NUL); a bad body is a 400, never a 500. The
body's size is Django's DATA_UPLOAD_MAX_MEMORY_SIZE (413, see qa.api.errors).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from qa import limits


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            # The serializers check the values (StorableJSONField, CharField), each under its field's name.
            return limits.load_json(stream.read(), field="body", max_bytes=None)
        except ValidationError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": " ".join(exc.messages)}) from None
