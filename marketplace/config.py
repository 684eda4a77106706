"""Configuration read from the environment.

Every setting has a safe default for the embedded set-up (SQLite file,
sandbox payments, in-process jobs, in-memory rate limits) except the secret
key, which production must provide.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

DEV_SECRET_KEY = "dev-secret-key-change-me"


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean environment variable explicitly; reject anything unclear."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    """Parse an integer environment variable."""
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else int(raw)


def env_list(name: str) -> list[str]:
    """Parse a comma-separated environment variable into a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def parse_amounts(raw: str) -> dict[str, int]:
    """Parse `usd:50000,eur:45000` into minor units per currency."""
    amounts = {}
    for item in raw.split(","):
        currency, _, amount = item.strip().partition(":")
        amounts[currency.strip().lower()] = int(amount)
    return amounts


class Config:
    """Settings shared by every environment; values come from the environment."""

    ENV_NAME = "development"
    DEBUG = False
    TESTING = False

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///marketplace.db")
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Payments
    PAYMENTS = os.environ.get("PAYMENTS", "sandbox")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
    # Stripe holds platform funds for about 90 days: escrow older than this warns, then
    # goes to the admins' review.
    ESCROW_WARN_DAYS = env_int("ESCROW_WARN_DAYS", 60)
    ESCROW_REVIEW_DAYS = env_int("ESCROW_REVIEW_DAYS", 75)
    PLATFORM_FEE_BPS = env_int("PLATFORM_FEE_BPS", 1000)
    AUTO_RELEASE_DAYS = env_int("AUTO_RELEASE_DAYS", 14)
    # Days a provider has to answer a refund request before the refund goes ahead.
    REFUND_REQUEST_DAYS = env_int("REFUND_REQUEST_DAYS", 7)
    # Days from a dispute's opening in which both parties may add evidence.
    DISPUTE_EVIDENCE_DAYS = env_int("DISPUTE_EVIDENCE_DAYS", 7)
    # Hourly contracts: the weekly limit when the award names none; the days a paid invoice's
    # money waits in escrow before the provider can have it (the security period); hours
    # between attempts to charge a declined invoice (the last one repeats).
    HOURLY_DEFAULT_WEEKLY_LIMIT = env_int("HOURLY_DEFAULT_WEEKLY_LIMIT", 40)
    HOURLY_SECURITY_DAYS = env_int("HOURLY_SECURITY_DAYS", 5)
    HOURLY_RETRY_HOURS = tuple(
        int(hours) for hours in (env_list("HOURLY_RETRY_HOURS") or ["24", "48", "96"])
    )
    # Money requests (funding, approval, refunds, resolutions) per signed-in user.
    MONEY_RATE_LIMIT = os.environ.get("MONEY_RATE_LIMIT", "60 per minute;600 per hour")
    # Idempotency keys are kept this long (at least 24 hours), and an unfinished first
    # request's key is taken over by a retry after IDEMPOTENCY_STALE_SECONDS.
    IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 48)
    IDEMPOTENCY_STALE_SECONDS = env_int("IDEMPOTENCY_STALE_SECONDS", 120)
    # Where the frontend lives: payout onboarding sends providers back there.
    FRONTEND_URL = os.environ.get("FRONTEND_URL", "http://localhost:3000")
    SUPPORTED_CURRENCIES = tuple(
        env_list("SUPPORTED_CURRENCIES") or ["usd", "eur", "gbp", "cad", "aud", "inr", "php"]
    )

    # Sessions and cookies. SameSite=Lax suits a frontend on the same site;
    # a frontend on another site needs SESSION_COOKIE_SAMESITE=None (and HTTPS).
    SESSION_COOKIE_NAME = "marketplace_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = os.environ.get("SESSION_COOKIE_SAMESITE", "Lax")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    # "Remember me" keeps the session cookie this long; sessions are recorded server-side
    # (accounts.UserSession), so logging out revokes them even if a cookie was copied.
    PERMANENT_SESSION_LIFETIME = timedelta(days=env_int("SESSION_DAYS", 14))

    # CSRF: checked explicitly for cookie sessions only (bearer requests skip it).
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None  # valid for the life of the session
    # The token is the defence; a frontend on another origin sends no
    # same-origin Referer, so the strict HTTPS referrer check is off.
    WTF_CSRF_SSL_STRICT = False
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]

    FRONTEND_ORIGINS = env_list("FRONTEND_ORIGINS")
    PROXY_FIX_COUNT = env_int("PROXY_FIX_COUNT", 0)

    # Rate limits (Flask-Limiter): memory by default, Redis when REDIS_URL is set.
    # Memory counters are per worker process: production must choose it explicitly.
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI: str | None = (
        os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute;100 per hour")
    # Per account, not per address: each code tried at sign-in, enable or disable counts, so
    # spreading guesses of a 6-digit code over many addresses gains nothing.
    TWO_FACTOR_RATE_LIMIT = os.environ.get(
        "TWO_FACTOR_RATE_LIMIT", "5 per minute;20 per hour;50 per day"
    )
    #: The name authenticator apps show next to the account (the otpauth:// issuer).
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Marketplace")
    # Per signed-in user: writes that reach other people (bids, messages, invitations)
    # or mint credentials.
    BID_RATE_LIMIT = os.environ.get("BID_RATE_LIMIT", "30 per hour;100 per day")
    BID_EDIT_RATE_LIMIT = os.environ.get("BID_EDIT_RATE_LIMIT", "10 per minute;60 per hour")
    MESSAGE_RATE_LIMIT = os.environ.get("MESSAGE_RATE_LIMIT", "20 per minute;300 per hour")
    TOKEN_RATE_LIMIT = os.environ.get("TOKEN_RATE_LIMIT", "10 per hour;30 per day")
    # A new verification e-mail, per user; a password change (which checks the current
    # password), per user.
    VERIFY_EMAIL_RATE_LIMIT = os.environ.get("VERIFY_EMAIL_RATE_LIMIT", "3 per hour;10 per day")
    PASSWORD_CHANGE_RATE_LIMIT = os.environ.get(
        "PASSWORD_CHANGE_RATE_LIMIT", "5 per minute;20 per hour"
    )
    MEMBER_INVITATION_RATE_LIMIT = os.environ.get(
        "MEMBER_INVITATION_RATE_LIMIT", "20 per hour;50 per day"
    )
    TASK_INVITATION_RATE_LIMIT = os.environ.get(
        "TASK_INVITATION_RATE_LIMIT", "20 per hour;100 per day"
    )

    # Jobs and e-mail
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Marketplace <no-reply@marketplace.local>")
    SMTP_HOST = os.environ.get("SMTP_HOST", "localhost")
    SMTP_PORT = env_int("SMTP_PORT", 25)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = env_bool("SMTP_STARTTLS", False)
    OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
    OUTBOX_BACKOFF_SECONDS = env_int("OUTBOX_BACKOFF_SECONDS", 30)

    # OpenAPI (flask-smorest)
    API_TITLE = "Task delegation marketplace"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs/assets/"  # served from the swagger-ui-bundle package

    API_SPEC_OPTIONS: dict[str, Any] = {
        "info": {
            "description": (
                "Backend of a marketplace where businesses hand off non-core work.\n\n"
                "**Authentication.** The web frontend signs in with `POST /api/v1/auth/login` "
                "and then uses the session cookie; every POST, PUT, PATCH and DELETE of a "
                "cookie session carries the token from `GET /api/v1/auth/csrf` in an "
                "`X-CSRFToken` header. Integrations send `Authorization: Bearer <token>` with a "
                "personal API token (`POST /api/v1/auth/tokens`) and need no CSRF token.\n\n"
                "**Errors** always have the shape "
                '`{"error": {"code": "...", "message": "...", "details": {...}}}`; '
                "another user's private object is a 404. A body field or query parameter "
                "the endpoint does not declare is a 422.\n\n"
                "**Lists** take `page` and `page_size` (at most 100) and answer "
                "`{items, page, page_size, total}`.\n\n"
                '**Money** is `{"amount": <integer minor units>, "currency": "usd"}`; times are '
                "ISO 8601 in UTC; time zones are IANA names."
            )
        },
        # Each operation says which it needs (api.security_requirements).
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token: `Authorization: Bearer mkt_...`.",
                },
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE_NAME,
                    "description": (
                        "The session cookie that `POST /api/v1/auth/login` sets; the "
                        "browser sends it (nothing to fill in on the docs page)."
                    ),
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": (
                        "The token of `GET /api/v1/auth/csrf`, which a cookie session sends "
                        "on every POST, PUT, PATCH and DELETE (login and sign-up too). "
                        "The docs page fills it in."
                    ),
                },
            }
        },
    }

    # Tasks
    NEW_CLIENT_DAYS = env_int("NEW_CLIENT_DAYS", 7)
    TASK_EXPIRY_DAYS = env_int("TASK_EXPIRY_DAYS", 30)
    TRIAL_BUDGET_CAPS: dict[str, int] = parse_amounts(
        os.environ.get("TRIAL_BUDGET_CAPS")
        or "usd:50000,eur:50000,gbp:40000,cad:70000,aud:75000,inr:4000000,php:2800000"
    )
    # Postings matching any of these (case-insensitive regular expressions) go to review:
    # requests to pay or talk off the platform, and contact details.
    # TASK_BLOCKLIST: one expression per line.
    TASK_BLOCKLIST: list[str] = [
        line for line in os.environ.get("TASK_BLOCKLIST", "").splitlines() if line.strip()
    ] or [
        r"\b(?:pay|paid|payment)\b[^.]{0,40}\b(?:paypal|venmo|zelle|western union|"
        r"moneygram|wise|crypto|bitcoin|usdt|gift ?cards?|cash ?app|bank transfer)\b",
        r"\b(?:off|outside)[- ](?:the )?(?:platform|site|marketplace)\b",
        r"\b(?:whats ?app|telegram|wechat|viber)\b",
        r"[\w.+-]+@[\w-]+\.[\w.-]+",
        r"(?:\+|\b00)\d[\d ().-]{7,}\d",
    ]

    # Contracts
    OFFER_EXPIRY_DAYS = env_int("OFFER_EXPIRY_DAYS", 7)
    AMENDMENT_LAPSE_DAYS = env_int("AMENDMENT_LAPSE_DAYS", 7)
    # Days after a contract ends during which each side may review the other; reviews
    # still hidden then are published.
    REVIEW_WINDOW_DAYS = env_int("REVIEW_WINDOW_DAYS", 14)
    # Service levels that matter in the first year (docs/domain.md), per service model; the
    # client may override them when awarding and either party by amendment. Rates and shares
    # are fractions; durations are business hours (in the contract's service hours); coverage
    # is hours a week. Each KPI's period is fixed in marketplace/record/kpis.py (completion,
    # responses, turnaround and on-time weekly; error, rework, csat, improvements and learning
    # speed monthly; SOP adherence every two weeks).
    #: A client message after this many quiet wall-clock hours opens a new exchange (its
    #: answer is a first response, not a next one).
    SLA_EXCHANGE_IDLE_HOURS = env_int("SLA_EXCHANGE_IDLE_HOURS", 24)
    #: SLA events that happened longer ago than this when first recorded (history the job
    #: never saw, as on its first run) are recorded without telling the parties.
    SLA_EVENTS_NOTIFY_WITHIN_HOURS = env_int("SLA_EVENTS_NOTIFY_WITHIN_HOURS", 168)
    #: The targets every service model shares (docs/domain.md's year-one service levels).
    YEAR_ONE_TARGETS: dict[str, float] = {
        "min_response_within_target": 0.9,
        "min_on_time_rate": 0.9,
        "min_completion_rate": 0.95,
        "min_csat": 4.0,
        "min_improvements_per_month": 2,
        "min_sop_adherence": 1.0,
    }
    SLA_DEFAULTS: dict[str, dict[str, float]] = {
        "va": {
            "first_response_hours": 4,
            "turnaround_hours": 24,
            "max_error_rate": 0.02,
            "max_rework_rate": 0.10,
            "coverage_hours": 40,
            "next_response_hours": 4,
            "learning_speed_hours": 16,
            **YEAR_ONE_TARGETS,
        },
        "bpo": {
            "first_response_hours": 1,
            "turnaround_hours": 24,
            "max_error_rate": 0.02,
            "max_rework_rate": 0.05,
            "coverage_hours": 120,
            "next_response_hours": 1,
            "learning_speed_hours": 8,
            **YEAR_ONE_TARGETS,
        },
        "ito": {
            "first_response_hours": 2,
            "turnaround_hours": 8,
            "max_error_rate": 0.01,
            "max_rework_rate": 0.05,
            "coverage_hours": 60,
            "next_response_hours": 2,
            "learning_speed_hours": 16,
            **YEAR_ONE_TARGETS,
        },
        "kpo": {
            "first_response_hours": 8,
            "turnaround_hours": 72,
            "max_error_rate": 0.02,
            "max_rework_rate": 0.10,
            "coverage_hours": 40,
            "next_response_hours": 8,
            "learning_speed_hours": 24,
            **YEAR_ONE_TARGETS,
        },
    }

    # The workflow audit's return estimate (marketplace/workflows/roi.py): the share of a
    # workflow's hours the client spends handing work off and reviewing it, in the first
    # `onboarding_months` months and after; the share of the work redone in house in those
    # first months (the quality dip); and how many months an estimate shows.
    WORKFLOW_ROI: dict[str, Any] = {
        "management_share": Decimal(os.environ.get("WORKFLOW_ROI_MANAGEMENT_SHARE", "0.10")),
        "onboarding_management_share": Decimal(
            os.environ.get("WORKFLOW_ROI_ONBOARDING_MANAGEMENT_SHARE", "0.25")
        ),
        "rework_share": Decimal(os.environ.get("WORKFLOW_ROI_REWORK_SHARE", "0.15")),
        "onboarding_months": env_int("WORKFLOW_ROI_ONBOARDING_MONTHS", 3),
        "months": 12,
    }

    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)  # request bodies

    # Files: `local` keeps them under FILE_STORAGE_PATH (relative paths are under instance/);
    # `s3` in a bucket of S3 or any S3-compatible store (boto3 reads AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY from the environment).
    FILE_STORAGE = os.environ.get("FILE_STORAGE", "local")
    FILE_STORAGE_PATH = os.environ.get("FILE_STORAGE_PATH", "files")
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    # How long a signed download URL of S3 stays valid.
    FILE_URL_SECONDS = env_int("FILE_URL_SECONDS", 60)
    # The largest upload per use (FILE_MAX_BYTES_<USE>), else FILE_MAX_BYTES_DEFAULT.
    FILE_MAX_BYTES: dict[str, int] = {
        use: env_int(f"FILE_MAX_BYTES_{use.upper()}", env_int("FILE_MAX_BYTES_DEFAULT", 25 << 20))
        for use in ("task", "message", "submission", "evidence", "work_report", "time_entry")
    }
    # The content types accepted, as sniffed from the bytes (never the client's word).
    FILE_ALLOWED_TYPES: tuple[str, ...] = tuple(
        env_list("FILE_ALLOWED_TYPES")
        or [
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "text/plain",
            "text/csv",
            "application/zip",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "application/rtf",
        ]
    )
    # Uploads never attached to anything are deleted after this many hours.
    FILE_UNATTACHED_HOURS = env_int("FILE_UNATTACHED_HOURS", 24)

    PAGE_SIZE_DEFAULT = 20
    PAGE_SIZE_MAX = 100

    @classmethod
    def validate(cls, config: dict[str, Any]) -> None:
        """Refuse settings that must never reach a running service."""
        if config["PAYMENTS"] not in {"sandbox", "stripe"}:
            raise RuntimeError("PAYMENTS must be 'sandbox' or 'stripe'")
        if not 0 <= config["PLATFORM_FEE_BPS"] < 10_000:
            raise RuntimeError("PLATFORM_FEE_BPS must be from 0 to 9999 basis points")
        roi = config["WORKFLOW_ROI"]
        shares = ("management_share", "onboarding_management_share", "rework_share")
        if not all(0 <= roi[name] <= 1 for name in shares) or not (
            0 <= roi["onboarding_months"] < roi["months"]
        ):
            raise RuntimeError(
                "WORKFLOW_ROI_* shares must be from 0 to 1, onboarding months from 0 to 11"
            )
        if config["PAYMENTS"] == "stripe":
            # Without the webhook secret no payment is ever confirmed, so nothing is funded.
            for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
                if not config.get(name):
                    raise RuntimeError(f"PAYMENTS=stripe needs {name}")
        if config["FILE_STORAGE"] not in {"local", "s3"}:
            raise RuntimeError("FILE_STORAGE must be 'local' or 's3'")
        if config["FILE_STORAGE"] == "s3" and not config.get("S3_BUCKET"):
            raise RuntimeError("FILE_STORAGE=s3 needs S3_BUCKET")
        if config["IDEMPOTENCY_KEY_HOURS"] < 24:
            raise RuntimeError("IDEMPOTENCY_KEY_HOURS must be at least 24")
        if config["DISPUTE_EVIDENCE_DAYS"] < 1:
            raise RuntimeError("DISPUTE_EVIDENCE_DAYS must be at least 1")


class DevelopmentConfig(Config):
    """Local development: `make run`."""

    DEBUG = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)


class TestingConfig(Config):
    """The test suite: a database given by TEST_DATABASE_URL or a temporary SQLite file."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    # Never the development database: the suite empties the tables it uses.
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SESSION_COOKIE_SECURE = False
    RATELIMIT_STORAGE_URI = "memory://"
    AUTH_RATE_LIMIT = TWO_FACTOR_RATE_LIMIT = "1000 per minute"
    MONEY_RATE_LIMIT = "10000 per minute"
    BID_RATE_LIMIT = BID_EDIT_RATE_LIMIT = MESSAGE_RATE_LIMIT = "10000 per minute"
    TOKEN_RATE_LIMIT = MEMBER_INVITATION_RATE_LIMIT = TASK_INVITATION_RATE_LIMIT = (
        "10000 per minute"
    )
    VERIFY_EMAIL_RATE_LIMIT = PASSWORD_CHANGE_RATE_LIMIT = "10000 per minute"
    REDIS_URL = None
    MAIL_BACKEND = "memory"
    PAYMENTS = "sandbox"


class ProductionConfig(Config):
    """Production: PostgreSQL, Stripe, Celery on Redis, secure cookies."""

    ENV_NAME = "production"
    # No silent fallback to memory: see `validate`.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or Config.REDIS_URL

    @classmethod
    def validate(cls, config: dict[str, Any]) -> None:
        """Refuse to start with a missing or development secret key, or with rate limits
        counted per worker process without the operator saying so."""
        super().validate(config)
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set to a strong secret in production")
        if config["RATELIMIT_ENABLED"] and not config.get("RATELIMIT_STORAGE_URI"):
            # Each gunicorn worker would keep its own counters, multiplying every limit.
            raise RuntimeError(
                "Rate limits need a shared store in production: set REDIS_URL (or "
                "RATELIMIT_STORAGE_URI), or set RATELIMIT_STORAGE_URI=memory:// to accept "
                "limits counted separately in each worker process"
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by MARKETPLACE_ENV (default: development)."""
    name = os.environ.get("MARKETPLACE_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"MARKETPLACE_ENV must be one of {sorted(CONFIGS)}") from None
