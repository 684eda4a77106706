"""Fixtures: one migrated database per session, emptied after every test.

The suite runs on a temporary SQLite file by default and on PostgreSQL when
TEST_DATABASE_URL is set (that database is wiped at the start of the run).
Rows are really committed, so tests of locks and concurrency see what
production sees; reference data from migrations (skills) is kept.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context, request_finished, request_started
from flask.testing import FlaskClient
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.config import TestingConfig
from marketplace.extensions import db, limiter
from marketplace.files import storage as file_storage
from marketplace.jobs.mail import MemoryBackend
from marketplace.reporting import ledger_check as ledger_checks
from tests import factories, s3_support
from tests.stripe_support import stop

#: The browser tests' fixtures (live_server, browser, page), shared by their modules.
pytest_plugins = ["tests.browser_support"]

KEEP_TABLES = {"skills", "alembic_version"}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
#: `s3`: the whole suite keeps files in a bucket of a moto server it starts (CI's second pass).
TEST_FILE_STORAGE = os.environ.get("TEST_FILE_STORAGE", "local")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests skip, with the reason, when no PostgreSQL is configured."""
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL, or a fresh SQLite file for this run."""
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a server would.

    Tests hold an app context for factories and assertions; without this, a
    request would reuse it and share `g` (Flask-Login's cached user, the CSRF
    token) and the database session with the test and with other clients.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Buffered: the response is read and closed, as a server does after sending it,
        # which runs the work scheduled with `call_on_close` (outbox delivery).
        kwargs.setdefault("buffered", True)
        if has_app_context():  # end the test's own transaction: SQLite takes the write lock
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not in the worker threads of concurrency tests
            db.session.expire_all()  # the test sees what the request committed
        return response


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server for the session (skipped, saying why, if moto is not installed)."""
    if s3_support.moto_command() is None:
        pytest.skip("needs moto_server: pip install 'moto[server]' (a dev dependency)")
    s3_support.use_fake_credentials()
    process, url = s3_support.start_moto()
    yield url
    stop(process)


@pytest.fixture(scope="session")
def app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """The app, with its database built by the migrations (as in production)."""
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FILE_STORAGE_PATH": str(tmp_path_factory.mktemp("files")),
    }
    if TEST_FILE_STORAGE == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        s3_support.create_bucket(endpoint, "marketplace-suite")
        settings.update(FILE_STORAGE="s3", S3_BUCKET="marketplace-suite", S3_ENDPOINT_URL=endpoint)
    if database_url.startswith("postgresql"):
        # The race tests send 64 requests at once; each needs its own connection.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "pool_size": 10,
            "max_overflow": 60,
        }
    config = type("SuiteConfig", (TestingConfig,), settings)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(app: Flask, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs in an app context and leaves an empty database behind; before it is
    emptied, the books the test's flows wrote must pass every ledger-check rule."""
    MemoryBackend.outbox.clear()
    with app.app_context():
        limiter.reset()
        yield
        db.session.remove()
        breaches = []
        if request.node.get_closest_marker("corrupts_ledger") is None:
            breaches = ledger_checks.breaches()
            db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("TRUNCATE " + ", ".join(t.name for t in tables) + " CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
        assert breaches == [], f"the test left the ledger inconsistent: {breaches}"


@pytest.fixture(params=["local", "s3"])
def storage_backend(
    request: pytest.FixtureRequest, app: Flask, tmp_path: Any
) -> Iterator[file_storage.Storage]:
    """Each storage backend in turn for the test (a fresh directory, or a fresh bucket on
    the moto server), put in place of the app's for its duration."""
    store: file_storage.Storage
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"test-{uuid.uuid4().hex[:12]}"
        s3_support.create_bucket(endpoint, bucket)
        store = file_storage.S3Storage(bucket=bucket, endpoint_url=endpoint, region="us-east-1")
    else:
        store = file_storage.LocalStorage(str(tmp_path / "files"))
    previous = app.extensions["file_storage"]
    app.extensions["file_storage"] = store
    yield store
    app.extensions["file_storage"] = previous


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A bare test client: no CSRF help, for tests of CSRF itself."""
    return app.test_client()


class Api:
    """A test client that behaves like the web frontend: JSON, session cookie, CSRF header."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._csrf: str | None = None
        self.token: str | None = None

    def csrf_token(self) -> str:
        if self._csrf is None:
            self._csrf = self.client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
        return self._csrf

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        elif method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers.setdefault("X-CSRFToken", self.csrf_token())
        if not path.startswith("/"):
            path = "/api/v1/" + path
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def login(self, user: User, password: str = factories.PASSWORD) -> Api:
        """Sign in as `user`, with the current code if they use two-factor sign-in."""
        body = {"email": user.email, "password": password}
        code = factories.sign_in_code(user)
        if code is not None:
            body["code"] = code
        response = self.post("auth/login", json=body)
        assert response.status_code == 200, response.get_json()
        return self


@pytest.fixture
def api(app: Flask) -> Api:
    """A signed-out frontend-like client; `api.login(user)` signs in."""
    return Api(app.test_client())


@pytest.fixture
def login(app: Flask) -> Any:
    """`login(user)` gives a new frontend-like client signed in as `user`."""

    def _login(user: User) -> Api:
        return Api(app.test_client()).login(user)

    return _login


@pytest.fixture
def bearer(app: Flask) -> Any:
    """`bearer(user)` gives a client that authenticates with a fresh API token of `user`."""
    from marketplace.accounts import services

    def _bearer(user: User) -> Api:
        _, raw = services.create_token(user=user, name="tests")
        client = Api(app.test_client())
        client.token = raw
        return client

    return _bearer


@pytest.fixture
def sent_mail() -> list[Any]:
    """E-mails delivered through the memory backend during the test."""
    return MemoryBackend.outbox


class StatementLog:
    """The SQL statements a request sent: `during` it (until the response was made) and
    `after` it (work run once the response is sent, such as outbox delivery)."""

    def __init__(self) -> None:
        self.during: list[str] = []
        self.after: list[str] = []
        self.phase: str | None = None

    @property
    def count(self) -> int:
        """Statements sent while the request was answered: the request's budget."""
        return len(self.during)

    def report(self) -> str:
        """The statements, numbered, for a failing assertion's message."""
        lines = [f"{n:3} {sql.splitlines()[0][:160]}" for n, sql in enumerate(self.during, 1)]
        return f"{self.count} statements during the request:\n" + "\n".join(lines)


@pytest.fixture
def count_statements(app: Flask) -> Callable[[], AbstractContextManager[StatementLog]]:
    """`with count_statements() as log: api.get(...)`: the SQL the request sent.

    Counting is by the engine's cursor executions (SAVEPOINTs too; not BEGIN or COMMIT), between
    Flask's `request_started` and `request_finished` signals, so the test's own queries and
    sign-in are not counted; what runs after the response goes to `log.after`.
    """

    @contextmanager
    def _count() -> Iterator[StatementLog]:
        log = StatementLog()

        def started(sender: Any, **extra: Any) -> None:
            log.phase = "during"

        def finished(sender: Any, **extra: Any) -> None:
            log.phase = "after"

        def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("BEGIN"):  # SQLite's; PostgreSQL's drivers begin implicitly
                return
            if log.phase == "during":
                log.during.append(statement)
            elif log.phase == "after":
                log.after.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", executed)
        request_started.connect(started, app)
        request_finished.connect(finished, app)
        try:
            yield log
        finally:
            request_finished.disconnect(finished, app)
            request_started.disconnect(started, app)
            sa.event.remove(db.engine, "before_cursor_execute", executed)

    return _count
