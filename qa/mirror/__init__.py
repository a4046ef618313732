"""The mirror: Heify's four objects (Configuration, Evaluator with its criteria, Participant, Transcription),
Heify's rules as pure functions, and the services that change them. Reads nothing above it (reviews,
scorecards, insights, alerts)."""
