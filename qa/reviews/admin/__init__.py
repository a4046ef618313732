"""The review domain's admin screens: the call list and the review page (transcriptions.py), the review queues,
calibration sessions, sampling rules, agreement, and the call lists' export."""
