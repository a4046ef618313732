"""Reviews: the queues and their claims, verdicts and notes, sampling, calibration and agreement.
Reads the mirror, never scorecards, insights or alerts."""
