# The API server: migrations, then gunicorn on $PORT.
#   docker build -t marketplace .
#   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgresql+psycopg://... marketplace
# Production refuses to start without a real SECRET_KEY.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A numeric user, so that runtimes can check "not root" (Kubernetes runAsNonRoot).
# It has a home of its own because gunicorn (25+) keeps its control socket there.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The application. create_app() finds migrations/ beside the marketplace
# package and keeps its instance folder beside it too, so the package runs
# from this source tree: the editable install registers it (no second copy
# in site-packages) and every process, whatever its working directory,
# imports /app/marketplace.
COPY README.md wsgi.py ./
COPY marketplace ./marketplace
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps -e . \
    && mkdir -p /app/instance \
    && chown app:app /app/instance

COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint
RUN chmod 0755 /usr/local/bin/docker-entrypoint

ENV MARKETPLACE_ENV=production \
    PORT=8000

USER 10001:10001
EXPOSE 8000

# slim has no curl: urllib raises (exit 1) on a refused connection or a 503.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["docker-entrypoint"]
