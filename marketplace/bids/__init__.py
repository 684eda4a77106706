"""Bids: providers' proposals on open tasks."""
