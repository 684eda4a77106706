"""Celery tasks of the measured record."""

from __future__ import annotations
