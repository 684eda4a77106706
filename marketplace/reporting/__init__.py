"""Reporting: statements, ledger checks and figures read across the money and domain areas."""
