"""Where Django finds qa's models: each domain keeps its own (qa/mirror/models.py, qa/reviews/models.py,
qa/alerts/models.py, qa/insights/models.py; the abstract job states in qa/jobs.py, staff by role in
qa/roles.py). Import a model from its domain, never from here."""

from qa.alerts.models import Alert, AlertCondition, AlertDelivery, AlertRule  # noqa: F401
from qa.audit import AuditEvent  # noqa: F401 (the audit trail's model lives with its one writer, qa/audit.py)
from qa.insights.models import WeeklySummarySent  # noqa: F401
from qa.mirror.criterion_results import CriterionResult  # noqa: F401
from qa.mirror.models import (  # noqa: F401
    Configuration,
    Criterion,
    DailyCalls,
    Evaluator,
    EvaluatorRevision,
    ExtractionField,
    Participant,
    Transcription,
)
from qa.preferences import Preference  # noqa: F401 (a person's own choices: qa/preferences.py)
from qa.reviews.models import (  # noqa: F401
    CalibrationAnswer,
    CalibrationSession,
    CalibrationSubmission,
    CoachingSession,
    CriterionVerdict,
    Dispute,
    EvaluatorAgreement,
    ReviewEvent,
    ReviewItem,
    SamplingPick,
    SamplingRule,
)
from qa.roles import StaffByRole  # noqa: F401
