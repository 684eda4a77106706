"""Notifications: what happened that a user should know, in the app and by e-mail."""
