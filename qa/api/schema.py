"""The OpenAPI schema tells the truth about the answers DRF gives on its own.

Any operation answers 406 when the Accept header asks for something other
than JSON, and one that reads a body answers 415 when the body is not JSON
(qa.api.parsers) and 413 when it is larger than DATA_UPLOAD_MAX_MEMORY_SIZE;
all in the one error shape. Views set
`schema = HeifyAutoSchema()`; their @extend_schema responses keep the rest.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from qa.api import serializers as s
from qa.api.exports import EXPORT_MEDIA_TYPES

DRF_ERRORS = {
    "406": "The Accept header asks for something other than JSON.",
    "413": "The body is larger than the server takes (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by default).",
    "415": "The body's Content-Type is not application/json.",
    "404": "A ?format= other than json, csv or xlsx (DRF answers an unknown format as a page not found).",
}


class HeifyAutoSchema(AutoSchema):
    def map_renderers(self, attribute):
        # A list's export is a file, not its JSON in another type (added to the list's 200 below); errors are JSON.
        return [media for media in super().map_renderers(attribute) if media not in EXPORT_MEDIA_TYPES]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        exported = set(AutoSchema.map_renderers(self, "media_type")) & set(EXPORT_MEDIA_TYPES)
        if direction == "response" and exported and "200" in responses:
            responses["200"]["content"].update(
                {media: {"schema": {"type": "string", "format": "binary"}} for media in sorted(exported)}
            )
        codes = ["406", *(["404"] if exported else [])]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(s.ErrorSerializer, code, None, direction)
                responses[code]["description"] = DRF_ERRORS[code]
        return responses


class TokenScheme(OpenApiAuthenticationExtension):
    """qa.api.authentication.TokenAuthentication in the schema: `Authorization: Token <token>`."""

    target_class = "qa.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
