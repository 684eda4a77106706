"""Celery configured from the Flask config: Redis when REDIS_URL is set, eager otherwise."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, g

log = logging.getLogger(__name__)

#: Periodic jobs: name -> (task name, seconds between runs). Areas add theirs here;
#: each is also a `flask` command so cron or an operator can run it by hand.
PERIODIC: dict[str, tuple[str, float]] = {
    "deliver-outbox": ("marketplace.jobs.tasks.deliver_outbox", 60.0),
    "expire-tasks": ("marketplace.tasks.jobs.expire_tasks", 3600.0),
    "expire-offers": ("marketplace.contracts.jobs.expire_offers", 3600.0),
    "lapse-amendments": ("marketplace.contracts.jobs.lapse_amendments", 3600.0),
    "auto-release": ("marketplace.payments.jobs.auto_release", 900.0),
    "lapse-refund-requests": ("marketplace.payments.jobs.lapse_refund_requests", 900.0),
    "purge-idempotency-keys": ("marketplace.payments.jobs.purge_idempotency_keys", 3600.0),
    "escrow-age-guard": ("marketplace.payments.jobs.escrow_age_guard", 6 * 3600.0),
    "refresh-availability": ("marketplace.matching.jobs.refresh_availability", 86400.0),
    "refresh-task-fit": ("marketplace.matching.jobs.refresh_task_fit", 86400.0),
    "recompute-records": ("marketplace.matching.jobs.recompute_records", 3600.0),
    "purge-files": ("marketplace.files.jobs.purge_files", 3600.0),
    "publish-reviews": ("marketplace.record.jobs.publish_reviews", 3600.0),
    "confirm-work-reports": ("marketplace.record.jobs.confirm_work_reports", 3600.0),
    "evaluate-slas": ("marketplace.record.jobs.evaluate_slas", 300.0),
    "bill-hours": ("marketplace.hourly.jobs.bill", 900.0),
}


def init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside the Flask app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config.get("REDIS_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=redis_url or "memory://",
        result_backend=None,
        task_ignore_result=True,
        task_always_eager=not redis_url,
        task_eager_propagates=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        timezone="UTC",
        beat_schedule={
            name: {"task": task, "schedule": seconds} for name, (task, seconds) in PERIODIC.items()
        },
        include=[
            "marketplace.jobs.tasks",
            "marketplace.tasks.jobs",
            "marketplace.contracts.jobs",
            "marketplace.payments.jobs",
            "marketplace.matching.jobs",
            "marketplace.record.jobs",
            "marketplace.hourly.jobs",
        ],
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    @app.after_request
    def kick_outbox(response: Any) -> Any:
        # Entries committed by this request are delivered once the response is sent:
        # in-process when eager, else by a worker. The user never waits on, or sees,
        # a failing mail server.
        if g.pop("outbox_dirty", False):
            response.call_on_close(lambda: _deliver_outbox(app))
        return response

    return celery_app


def _deliver_outbox(app: Flask) -> None:
    with app.app_context():
        try:
            run_task("marketplace.jobs.tasks.deliver_outbox")
        except Exception:  # delivery is retried by the periodic job; never fail the caller
            log.exception("Could not deliver the outbox after a request")


def run_task(name: str, *args: Any, **kwargs: Any) -> Any:
    """Queue a task on this app's Celery (run at once, in-process, when eager)."""
    return current_app.extensions["celery"].tasks[name].delay(*args, **kwargs)
