"""Jobs: Celery bound to Flask, the transactional outbox and periodic work."""
