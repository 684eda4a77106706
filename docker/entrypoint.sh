#!/bin/sh
# Container entry point.
#   (no arguments) or `web`: apply the migrations, then serve with gunicorn on $PORT.
#   `worker`: the Celery worker with the periodic jobs (beat); needs REDIS_URL.
#   anything else runs as given, e.g.
#     docker run IMAGE flask --app wsgi create-admin --email E --password P
# Set RUN_MIGRATIONS=0 when several web containers start at once and the
# migrations are applied by a one-off `docker run IMAGE flask --app wsgi db upgrade`.
set -eu

case "${1:-web}" in
    web)
        if [ "${RUN_MIGRATIONS:-1}" != "0" ]; then
            flask --app wsgi db upgrade
        fi
        exec gunicorn \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" \
            --worker-tmp-dir /dev/shm \
            --access-logfile - \
            wsgi:app
        ;;
    worker)
        if [ -z "${REDIS_URL:-}" ]; then
            echo "error: the worker needs REDIS_URL (its broker)" >&2
            exit 1
        fi
        exec celery -A marketplace.jobs.worker worker -B \
            --schedule-filename /app/instance/celerybeat-schedule --loglevel=info
        ;;
    *)
        exec "$@"
        ;;
esac
