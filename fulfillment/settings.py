"""Settings for the Amazon <-> warehouse fulfillment bridge.

Every value comes from the environment, read once here with django-environ
(see `.env.example` and the README). Development defaults exist only when
DEBUG is on; in production a missing secret stops the start with a message
that names it, instead of failing at first use.
"""

import datetime as dt
import os
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if os.environ.get("DJANGO_READ_DOT_ENV", "1") != "0":
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development-only values. They are public (in this file), so production
# refuses them: see `_required_secret`.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
_DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE="


def _required_secret(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value and (DEBUG or value != dev_default):
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} is not set. For the demo, run commands through the Makefile, which sets DEBUG=1 and "
        f'the demo\'s settings: make manage ARGS="<command> …" (or make shell). Production (DEBUG off) '
        f"needs a real {name} in the environment or in .env: see .env.example."
    )


SECRET_KEY = _required_secret("SECRET_KEY", _DEV_SECRET_KEY)
# Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEY = _required_secret("FIELD_ENCRYPTION_KEY", _DEV_FIELD_ENCRYPTION_KEY)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where the product is reached from outside (OAuth redirect URI, emailed links).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "fulfillment.apps.FulfillmentAdminConfig",  # replaces django.contrib.admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_q",
    "import_export",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI/Redoc served locally, no CDN
    "csp",
    "fulfillment.core.apps.CoreConfig",
    "fulfillment.jobs.apps.JobsConfig",
    "fulfillment.orders.apps.OrdersConfig",
    "fulfillment.wms",
    "fulfillment.inventory.apps.InventoryConfig",
    "fulfillment.shipments",
    "fulfillment.ops.apps.OpsConfig",
    "fulfillment.privacy",
    "fulfillment.accounts",
    "fulfillment.monitoring.apps.MonitoringConfig",
    "connections",
    "mappings",
    "sandbox",
]

MIDDLEWARE = [
    # /healthz and /metrics answer before the host check and the HTTPS redirect:
    # a load balancer or Prometheus reaches an instance by its address, over HTTP.
    "fulfillment.monitoring.middleware.MonitoringEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Hashed, compressed static files with far-future cache headers, from the app server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Staff sessions without the second factor reach only the login steps.
    "fulfillment.accounts.middleware.MfaRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fulfillment.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "fulfillment.wsgi.application"
ASGI_APPLICATION = "fulfillment.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: a PostgreSQL connection costs a few milliseconds and
# a backend process to open, so each web thread and worker keeps its own for a
# minute; the health check replaces one the server closed before it is used.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs the web server and the qcluster on one SQLite file. A
    # deferred transaction that reads and then writes cannot wait for another
    # writer ("database is locked" at once); IMMEDIATE takes the write lock at
    # BEGIN, so writers queue for up to `timeout` seconds instead. WAL lets
    # readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts: passwords, lockout, second factor (Amazon's Data Protection Policy) ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # No reuse of the last PASSWORD_HISTORY_COUNT passwords.
    {"NAME": "fulfillment.accounts.validators.PasswordHistoryValidator"},
]
PASSWORD_HISTORY_COUNT = env.int("PASSWORD_HISTORY_COUNT", default=10)

# Every staff user enrols a TOTP app at first login and enters a code at every
# login; off only for local development.
ADMIN_MFA_REQUIRED = env.bool("ADMIN_MFA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Fulfillment Bridge")
# Codes accepted one step (30 s) either side of now: phones drift.
OTP_TOTP_TOLERANCE = 1

# django-axes: AXES_FAILURE_LIMIT failed logins lock that user name, and
# separately that address, for AXES_LOCKOUT_MINUTES (unlock earlier from the admin).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Keep every failure (AccessAttempt rows go when a lock lifts): a security log,
# deleted after ACCESS_LOG_RETENTION_DAYS with the login log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "fulfillment.accounts.selectors.client_address"
# Proxies in front of the app whose X-Forwarded-For entries are trusted (0: the
# peer address is the client). Behind one load balancer, 1. Used by the lockout
# and the access audit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
FORMS_URLFIELD_ASSUME_HTTPS = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes content-hashed names plus .gz copies; WhiteNoise serves them
    # with a year-long immutable cache (bin/web runs collectstatic before gunicorn).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A cache shared by every process (redis://...) or, by default, one per process.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

LOGIN_URL = "admin:login"

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="fulfillment-bridge@localhost")

# --- Amazon Selling Partner API -------------------------------------------------
LWA_CLIENT_ID = env.str("LWA_CLIENT_ID", default="")
LWA_CLIENT_SECRET = env.str("LWA_CLIENT_SECRET", default="")
SP_API_APP_ID = env.str("SP_API_APP_ID", default="")
# Empty: each marketplace's own regional endpoint. Set: every call goes there.
SP_API_ENDPOINT = env.str("SP_API_ENDPOINT", default="").rstrip("/")
LWA_TOKEN_URL = env.str("LWA_TOKEN_URL", default="https://api.amazon.com/auth/o2/token")
# Empty: each marketplace's own Seller Central host.
SELLER_CENTRAL_URL = env.str("SELLER_CENTRAL_URL", default="").rstrip("/")
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
# The sandbox is a fake Amazon anyone can use to "authorize" a store: never in
# production by accident. Tests (DEBUG off like production) say so explicitly.
if SANDBOX_ENABLED and not DEBUG and not env.bool("SANDBOX_IN_PRODUCTION", default=False):
    raise ImproperlyConfigured(
        "SANDBOX_ENABLED=1 with DEBUG off would mount a fake Amazon at /sandbox/ in production. "
        "Unset SANDBOX_ENABLED, or set SANDBOX_IN_PRODUCTION=1 if this copy really is a test installation."
    )

# --- Amazon notifications (ORDER_CHANGE through SQS; docs/notifications.md) ------------
# The queue the application owns; empty: no subscriptions, orders arrive by polling only.
SQS_QUEUE_URL = env.str("SQS_QUEUE_URL", default="")
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
# Empty: AWS's own endpoint (credentials from the usual AWS environment); set: another
# SQS (moto in the demo and the tests).
SQS_ENDPOINT_URL = env.str("SQS_ENDPOINT_URL", default="")

# --- Sandbox (SP-API emulator) ----------------------------------------------------
# Read by the sandbox at request time, so tests override them with `settings`.
# Amazon's per-operation usage plans (429 QuotaExceeded when exceeded).
SANDBOX_RATE_LIMITS = env.bool("SANDBOX_RATE_LIMITS", default=True)
# >1 makes every sandbox rate that many times faster (tests, benchmarks).
SANDBOX_TIME_SCALE = env.float("SANDBOX_TIME_SCALE", default=1.0)
# Seconds a feed spends IN_QUEUE, then IN_PROGRESS, before it is DONE.
SANDBOX_FEED_PROCESSING_SECONDS = env.float("SANDBOX_FEED_PROCESSING_SECONDS", default=5.0)
# Orders placed and changed from the sandbox's admin or commands are stamped this
# many seconds ago, so the next download (which reads Amazon up to 3 minutes
# back) shows them; 0 is Amazon's own timing.
SANDBOX_NOW_LAG_SECONDS = env.int("SANDBOX_NOW_LAG_SECONDS", default=200)

# --- Connections: SP-API client, rate limiter, store authorization ---------------
# Seconds before an SP-API or LWA request is given up as a (transient) timeout.
SP_API_TIMEOUT = env.float("SP_API_TIMEOUT", default=30.0)
# "Test connection" runs inside an admin request: it must answer quickly.
SP_API_TEST_CONNECTION_TIMEOUT = env.float("SP_API_TEST_CONNECTION_TIMEOUT", default=8.0)
# Retries of 429/5xx/timeouts per call, and the most time one call may spend
# backing off before it reports a transient error to its job.
SP_API_MAX_ATTEMPTS = env.int("SP_API_MAX_ATTEMPTS", default=5)
SP_API_MAX_RETRY_WAIT = env.float("SP_API_MAX_RETRY_WAIT", default=120.0)
# >1 makes the rate limiter's clock run faster (tests, benchmarks against the
# sandbox with a matching SANDBOX_TIME_SCALE); 1.0 is Amazon's real time.
SP_API_RATE_TIME_SCALE = env.float("SP_API_RATE_TIME_SCALE", default=1.0)
# A draft (not yet published) SP-API app must send version=beta to the consent page.
SP_API_APP_IS_DRAFT = env.bool("SP_API_APP_IS_DRAFT", default=False)
# How long a consent `state` and an emailed merchant link stay valid.
OAUTH_STATE_MAX_AGE_SECONDS = env.int("OAUTH_STATE_MAX_AGE_SECONDS", default=15 * 60)
MERCHANT_LINK_MAX_AGE_DAYS = env.int("MERCHANT_LINK_MAX_AGE_DAYS", default=7)

# Days after an order ships or is cancelled before buyer data is blanked
# (Amazon's Data Protection Policy).
PII_RETENTION_DAYS = env.int("PII_RETENTION_DAYS", default=30)
# Days after an order closes before it and the rest of its Amazon data (lines,
# shipments, confirmations, sync runs, inventory history) are deleted: the
# policy's 18 months unless a law asks for more.
ORDER_DATA_RETENTION_DAYS = env.int("ORDER_DATA_RETENTION_DAYS", default=548)
# Security logs (the access audit of buyer data) are kept this long, then deleted.
ACCESS_LOG_RETENTION_DAYS = env.int("ACCESS_LOG_RETENTION_DAYS", default=365)

# --- django-q2 ------------------------------------------------------------------
# The queue's baseline: timeout below retry (else a slow task runs
# twice), finite attempts (else a failing task retries forever), failures
# acknowledged, and no catch-up (an outage must not replay every missed run).
Q_BROKER = env.str("Q_BROKER", default="orm")
Q_CLUSTER = {
    "name": "fulfillment",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 1500,
    "retry": 1800,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Background tasks",
    # Runs tasks inline; only for tests and debugging.
    "sync": env.bool("Q_SYNC", default=False),
}
if Q_BROKER.startswith(("redis://", "rediss://")):
    Q_CLUSTER["redis"] = Q_BROKER
elif Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
else:
    raise ImproperlyConfigured(f"Q_BROKER must be 'orm' or a redis:// URL, not {Q_BROKER!r}.")

# --- Django REST framework (WMS API) --------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON nested past a bound is a 400, not a RecursionError and a 500.
    "DEFAULT_PARSER_CLASSES": [
        "fulfillment.wms.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fulfillment bridge WMS API",
    "DESCRIPTION": "Released orders, cancellations, shipments and inventory for a warehouse.",
    "VERSION": "1",
    # The API docs page must work without internet: assets from drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- WMS side (fulfillment.wms) ------------------------------------------------------
# Attempts of a webhook POST before its delivery is marked failed (waits up to 1, 2, 4 ...
# min, at most 6 hours, drawn at random: fulfillment.core.outbound).
WMS_WEBHOOK_MAX_ATTEMPTS = env.int("WMS_WEBHOOK_MAX_ATTEMPTS", default=8)

# --- Shipment confirmations (fulfillment.shipments) ---------------------------
# Attempts of one package (transient errors wait up to 1, 2, 4 ... min, at most an
# hour, drawn at random: fulfillment.core.outbound) before it is rejected and
# operations are emailed.
CONFIRMATION_MAX_ATTEMPTS = env.int("CONFIRMATION_MAX_ATTEMPTS", default=8)
# The per-store sweep that sends what the on-commit task did not (minutes).
CONFIRMATION_SWEEP_MINUTES = env.int("CONFIRMATION_SWEEP_MINUTES", default=5)
# A package claimed longer ago than this is taken to belong to a crashed worker.
CONFIRMATION_CLAIM_LEASE_SECONDS = env.int("CONFIRMATION_CLAIM_LEASE_SECONDS", default=600)
# Hold a package whose tracking number is not its carrier's (fulfillment/shipments/tracking_formats.py)
# until a person corrects it or sends it anyway: Amazon's Valid Tracking Rate.
TRACKING_NUMBER_CHECK = env.bool("TRACKING_NUMBER_CHECK", default=True)

# --- Inventory push (fulfillment.inventory) ------------------------------------------
# At most this many changed SKUs go by patchListingsItem, one call each; more go by feed.
INVENTORY_PATCH_MAX_SKUS = env.int("INVENTORY_PATCH_MAX_SKUS", default=10)
# A complete inventory snapshot (WMS API or CSV) that would set more than this share of
# the warehouse's SKUs in stock to 0 (or all of them) waits for a person, whatever the count.
INVENTORY_SNAPSHOT_ZERO_GUARD_PERCENT = env.int("INVENTORY_SNAPSHOT_ZERO_GUARD_PERCENT", default=50)
# Seconds between getFeed polls, and the most one run waits for Amazon to process a
# feed (the next run polls an unfinished feed again; it is never created twice).
INVENTORY_FEED_POLL_SECONDS = env.float("INVENTORY_FEED_POLL_SECONDS", default=30.0)
INVENTORY_FEED_MAX_WAIT_SECONDS = env.float("INVENTORY_FEED_MAX_WAIT_SECONDS", default=900.0)
# Failed uploads or polls of one feed (each waits 1, 2, 4 ... min, at most an hour, until
# the next run after that) before the feed is given up and the next push sends its SKUs again.
INVENTORY_FEED_MAX_ATTEMPTS = env.int("INVENTORY_FEED_MAX_ATTEMPTS", default=8)
# Stores without Remote Fulfillment with FBA: a SKU's fulfillment channel (Amazon or the
# merchant) is read again (searchListingsItems, 20 SKUs a call) when last read longer ago
# than this; a listing can move to or from FBA in Seller Central.
INVENTORY_CHANNEL_REFRESH_HOURS = env.int("INVENTORY_CHANNEL_REFRESH_HOURS", default=72)

# --- Operations: dashboard, alerts, roles (fulfillment.ops) -----------------------------
# A job (order download, confirmation sweep, inventory push) failing this many runs in a
# row emails operations once.
OPS_ALERT_JOB_FAILURES = env.int("OPS_ALERT_JOB_FAILURES", default=3)
# Orders at risk of missing their ship-by are decided by the warehouse's shipping
# calendar (cut-off time, weekdays, holidays: the Warehouse admin), not a setting.

# --- django-import-export -------------------------------------------------------
# The default temp storage writes to the local /tmp, which breaks the confirm
# step when several web processes serve the admin: keep it in the cache/DB.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

# --- Reliability and security (issue 11) -------------------------------------------
# Largest CSV file (bytes) the mapping and WMS imports accept; checked before the
# file is decoded or parsed (DATA_UPLOAD_MAX_MEMORY_SIZE does not cover files).
# 20 MB is about 300,000 SKU mapping rows.
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

# --- Logging --------------------------------------------------------------------
# One line per record; LOG_FORMAT=json gives one JSON object per line for a log
# shipper. Either carries the store and sync-run ids a job is working on
# (fulfillment.core.logs), never buyer data.
# sp_api logs tokens and whole responses at DEBUG: keep it at WARNING always.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # OAuth codes and merchant-link tokens ride in URLs: request logs keep no query
    # string and no link token (connections/log_redaction.py), before any handler.
    "filters": {
        "redact_url_secrets": {"()": "connections.log_redaction.RedactUrlSecrets"},
        "job_context": {"()": "fulfillment.core.logs.JobContextFilter"},
    },
    "formatters": {
        # Django's own dev-server format, restated because django.server is redefined here.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
        "text": {"()": "fulfillment.core.logs.TextFormatter"},
        "json": {"()": "fulfillment.core.logs.json_formatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["job_context"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "sp_api": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_url_secrets"],
        },
        "django.request": {"filters": ["redact_url_secrets"]},
    },
}

# --- Errors: Sentry (optional) ------------------------------------------------------
# Off unless SENTRY_DSN is set. No personal data: no request bodies, cookies, query
# strings (OAuth codes), headers beyond a few harmless ones, or local variables
# (fulfillment.monitoring.sentry scrubs every event before it leaves).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from fulfillment.monitoring.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Health and metrics (fulfillment.monitoring) -------------------------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; empty = no /metrics.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# /healthz fails when the task cluster's once-a-minute heartbeat is older than this.
HEALTH_HEARTBEAT_MAX_AGE_SECONDS = env.int("HEALTH_HEARTBEAT_MAX_AGE_SECONDS", default=300)

# --- Content-Security-Policy (django-csp 4) ----------------------------------------------
# Scripts only from our own static files: no inline script, no eval, no CDN.
# An inline <style> block needs nonce="{{ request.csp_nonce }}"; style attributes
# are allowed (they cannot load anything: images and fonts are 'self'/data: only),
# because the admin's third-party pages (import-export, Swagger UI) use them.
# form-action is left open: the OAuth flow's forms redirect on to Seller Central.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Security (production) ------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
