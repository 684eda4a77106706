"""Accounts: users, sign-up and login, sessions, API tokens and suspensions."""
