"""Entry point of the Celery worker and beat: `celery -A marketplace.jobs.worker worker -B`."""

from marketplace import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
