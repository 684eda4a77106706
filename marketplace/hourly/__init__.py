"""Hourly contracts: time entries against a weekly limit, weekly invoices with a review
window, off-session charges to a saved card, a security period, and bonuses."""
