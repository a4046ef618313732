"""{% date_picker name value %} and {% date_picker_media %}: the date pickers of our screens (qa/date_inputs.py)."""

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from qa import date_inputs

register = template.Library()


@register.simple_tag
def date_picker(name, value=None, element_id=""):
    return date_inputs.picker(name, value, element_id=element_id)


@register.simple_tag
def date_picker_media():
    """Once per page, in the head: the admin's catalogue (the language's formats and the calendar's words), then
    the calendar's scripts and styles."""
    return SafeString(format_html('<script src="{}"></script>', reverse("admin:jsi18n"))
                      + date_inputs.media_tags(static))
