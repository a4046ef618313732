"""{% review_queues as queues %}: the queues and their counts, for the admin home."""

from django import template

from qa.mirror import rules
from qa.mirror.rules import Group
from qa.reviews import queues
from qa.reviews.admin.reviews import queue_link

register = template.Library()


@register.simple_tag(takes_context=True)
def review_queues(context):
    request = context["request"]
    counts = queues.queue_counts()
    return {
        "queues": [
            {"label": rules.group_label(group).capitalize(), "count": counts[group], "url": queue_link(group)}
            for group in (*rules.GROUPS, None)
        ],
        "mine": queues.my_reviews(request.user).count(),
        "mine_url": queue_link(Group.UNDER_REVIEW) + "&mine=1",
    }


@register.filter
def spaced(code: str) -> str:
    """insufficient_data -> insufficient data"""
    return str(code).replace("_", " ")
