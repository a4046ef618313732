"""The date pickers of our own screens (issue 25): a day is typed and shown in the reader's order (the active
language's DATE_INPUT_FORMATS[0]: 05/12/2026 in Spanish, 2026-12-05 in English, never the US month first), with the
admin's calendar beside it, and read back in any of that language's formats or ISO.

A browser's <input type="date"> shows the browser's own order (mm/dd/yyyy in an English Chromium), whatever the
page's language: our pickers are the admin's text input and calendar (DateTimeShortcuts) instead. Machine values
stay ISO: links, the API, data attributes (the what-if script turns a picker's value into ISO before it asks).

Templates: {% load date_pickers %}, {% date_picker_media %} once in the head, {% date_picker "as_of" as_of %} where
the field goes. Views: `date_inputs.parse(request.GET.get("as_of"))`.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

MEDIA_SCRIPTS = ("admin/js/core.js", "admin/js/calendar.js", "admin/js/admin/DateTimeShortcuts.js")
MEDIA_STYLES = ("admin/css/widgets.css",)


def input_format() -> str:
    """How the reader writes a day: the active language's first input format."""
    return formats.get_format("DATE_INPUT_FORMATS")[0]


def placeholder() -> str:
    """The input format as people read it: dd/mm/aaaa, yyyy-mm-dd."""
    parts = {"%d": gettext("dd"), "%m": gettext("mm"), "%Y": gettext("yyyy"), "%y": gettext("yy")}
    text = input_format()
    for code, shown in parts.items():
        text = text.replace(code, shown)
    return text


def picker(name: str, value: datetime.date | str | None = None, *, element_id: str = "") -> SafeString:
    """A text input of `name` holding `value` in the reader's order, which the admin's calendar attaches to."""
    widget = forms.DateInput(attrs={
        "class": "vDateField", "size": "10", "id": element_id or f"id_{name}", "placeholder": placeholder(),
        "autocomplete": "off",
    })
    return widget.render(name, value or "")


def parse(value: str | None, *, field: str = "as_of") -> datetime.date | None:
    """A day a person typed or picked, in any of their language's input formats or ISO; empty is None. Anything
    else is refused, naming `field` and the format the reader writes a day in."""
    if value is None or not str(value).strip():
        return None
    try:
        return forms.DateField().clean(str(value).strip())
    except ValidationError:
        raise ValidationError({field: gettext("%(field)s must be a date as %(format)s, not %(value)s.") % {
            "field": field, "format": placeholder().upper(), "value": repr(str(value)[:40])}}, code="invalid") from None


def media_tags(static) -> SafeString:
    """The scripts and the stylesheet the calendar needs, `static` resolving their names."""
    return SafeString("".join(
        [format_html('<link rel="stylesheet" href="{}">', static(path)) for path in MEDIA_STYLES]
        + [format_html('<script src="{}"></script>', static(path)) for path in MEDIA_SCRIPTS]))
