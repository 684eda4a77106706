"""Matching: time-zone overlap, shoring, and ranking providers against tasks."""
