"""Catalog: the taxonomy of skills that providers offer and tasks require."""
