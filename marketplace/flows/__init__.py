"""Flows: the operations that change several areas in one transaction."""
