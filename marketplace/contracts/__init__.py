"""Contracts: the agreement after an award, its immutable terms versions and milestones."""
