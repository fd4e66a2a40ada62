"""Visits: the provider's schedule, and what happens at a session (check-in, check-out, no-show, the visit note).

The session lifecycle itself (the transition table) lives in
respite.scheduling.lifecycle; this package adds who may take the visit's
transitions and when, and the visit note.
"""
