"""The REST API for internal tools (/api/v1/): Heify's JSON shapes, the back office's rules.

Views call qa.mirror.services like the admin does; nothing here restates a rule.
"""
