"""How the emulator's lists are paged: the page size limits and the opaque cursor (the offset of the next page,
tied to its resource)."""

from __future__ import annotations

import base64
import binascii

from syncer import contract
from syncer.emulator.errors import ApiError

LIMIT_DEFAULT, LIMIT_MAX = 100, 1000


def encode_cursor(resource: str, offset: int) -> str:
    """The opaque cursor of a list: the offset of the next page, tied to its resource."""
    return base64.urlsafe_b64encode(f"{resource}:{offset}".encode()).decode().rstrip("=")


def decode_cursor(resource: str, cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        owner, _, offset = text.partition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(
            400, "invalid_cursor", f"{contract.CURSOR_PARAM} {cursor!r} is not a cursor this API gave out"
        ) from None
    if owner != resource or value < 0:
        raise ApiError(
            400, "invalid_cursor", f"{contract.CURSOR_PARAM} {cursor!r} does not belong to the {resource} list"
        )
    return value
