"""Profiles: what a provider offers (rate, hours, skills) and what a client needs to be matched."""
