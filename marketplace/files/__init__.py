"""Uploaded files: stored bytes (a local directory or S3), their metadata, and what they
are attached to (a task's confidential material, messages, deliveries, dispute evidence)."""
