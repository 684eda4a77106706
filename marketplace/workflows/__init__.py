"""The workflow audit: a client's recurring workflows, and where each belongs."""
