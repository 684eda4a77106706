"""Moderation: reports from users, and the queues admins work from."""
