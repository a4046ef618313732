"""Scorecards: what an evaluator's change would do (what-if) and the scorecard API (revisions, what-if,
agreement, verdicts). Reads reviews and the mirror."""
