"""{% load policy %}: the templates ask qa.policy, as the views do ({% if user|may:"COMPARE_WITH_HEIFY" %})."""

from django import template

from qa import policy

register = template.Library()


@register.filter
def may(user, permission: str) -> bool:
    """qa.policy.may(user, Permission.<permission>); a name Permission does not have is an error, not a no."""
    return policy.may(user, policy.Permission[permission])
