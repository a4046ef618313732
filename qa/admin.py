"""Where Django's admin finds qa's screens (autodiscover imports qa.admin): each domain keeps its own, in
qa/<domain>/admin.py or qa/<domain>/admin/; the API tokens' screen is qa/api/admin.py."""

from qa.alerts import admin as alerts  # noqa: F401
from qa.api import admin as tokens  # noqa: F401
from qa.insights import admin as participants  # noqa: F401
from qa.mirror.admin import configurations, evaluators  # noqa: F401
from qa.reviews.admin import (  # noqa: F401
    agreement,
    audit,
    calibration,
    coaching,
    disputes,
    reviews,
    sampling,
    transcriptions,
)
from qa.scorecards import admin as evaluator_revisions  # noqa: F401
