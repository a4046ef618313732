"""Request bodies: DRF's parsers, with a bad body always a 400 in the one error shape, never a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # Python's decoder gives up on arrays or objects nested ~1000 deep
            raise ParseError("JSON parse error - nested too deep.") from None


PARSER_CLASSES = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
