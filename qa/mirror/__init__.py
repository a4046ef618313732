"""The mirror: Heify's four objects (Configuration, Evaluator with its criteria, Participant, Transcription),
Heify's rules as pure functions, the services that change them, and the call search. Reads nothing above it
(reviews, scorecards, insights, alerts)."""
