"""The prediction log: every request, durably recorded, and the feedback joined to it."""
