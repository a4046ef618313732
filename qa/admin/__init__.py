"""The back office's admin screens, one module per object."""

from qa.admin import (  # noqa: F401
    agreement,
    alerts,
    audit,
    calibration,
    configurations,
    evaluator_revisions,
    evaluators,
    participants,
    reviews,
    sampling,
    tokens,
    transcriptions,
)
