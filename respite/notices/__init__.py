"""Notices: what changed for a person, in a list of their own and (by their choice) by email."""
