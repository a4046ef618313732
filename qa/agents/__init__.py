"""Agents in the loop: an agent's account linked to their participant, and what they see of their own work."""
