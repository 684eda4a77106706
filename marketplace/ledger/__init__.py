"""The double-entry ledger: every movement of money, as entries that sum to zero."""
