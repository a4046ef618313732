"""An alert's words, kept so that each recipient reads them in their own language (issue 25).

An alert is stored when it fires and sent later, to people who may read different languages. So its subject and
body are kept as a message: the English text marked for translation (`gettext_noop`, so makemessages finds it)
and its values, and written out when it is sent, once per language (`render`, inside
`translation.override(language_of(user))`). The values are Heify's data as they are (a participant's tag, a
call's name), numbers (written as the language writes them: 52,5 in Spanish), other messages, or a moment (its date
and time in the reader's format, with the time zone). (A dispute's notices come written already, one per language:
qa.reviews.disputes.dispute_notices.)

    message = text(gettext_noop("%(who)s is degrading: %(before)s → %(now)s"), who=tag, before=60, now=48.5)
    render(message, "es")  # "… empeora: 60 → 48,5"
"""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone, translation
from django.utils.translation import gettext

Message = dict  # {"text": msgid, "params": {name: value}}


def text(msgid: str, **params) -> Message:
    """A message: `msgid`, marked where it is written with gettext_noop, and its %(name)s values."""
    return {"text": msgid, "params": params}


def moment(value: datetime) -> dict:
    """A date and time, written in the reader's language and the site's time zone."""
    return {"moment": value.isoformat()}


def _moment(iso: str) -> str:
    return formats.date_format(timezone.localtime(datetime.fromisoformat(iso)), "DATETIME_FORMAT")


KINDS = {"moment": _moment}


def _value(value):
    if isinstance(value, dict):
        if "text" in value:
            return _written(value)
        for kind, write in KINDS.items():
            if kind in value:
                return write(value[kind])
        raise ValueError(f"not a message value: {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # as "%g" writes it: 80.0 -> 80
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return formats.localize(value)
    return value


def _written(message: Message) -> str:
    if not message["text"]:
        return ""  # gettext("") would give the catalogue's header
    words = gettext(message["text"])
    params = message.get("params") or {}
    return words % {name: _value(value) for name, value in params.items()} if params else words


def render(message: Message, language: str | None = None) -> str:
    """The message in `language` (by default the language active now)."""
    if language is None:
        return _written(message)
    with translation.override(language):
        return _written(message)
