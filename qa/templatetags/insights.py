"""The insights' screens' filters: a change written with its sign, in the reader's language (+5,8 in Spanish)."""

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def signed(value) -> str:
    """5.8 -> "+5.8" ("+5,8" in Spanish), -2 -> "-2", 0 -> "0": a difference as a person reads it."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # as "%+g" writes it: 10.0 -> +10
    shown = formats.localize(value)
    return f"+{shown}" if value > 0 else shown
