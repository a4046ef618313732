"""The mirror's admin screens: configurations and evaluators (edited under Heify's rules), and the base every
qa screen builds on (base.py: Heify objects edited with a version check, read-only screens, the job-state
column; paging.py: lists that never count a million rows)."""
