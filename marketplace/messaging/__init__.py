"""Messaging: a thread per bid and per contract between the two parties."""
