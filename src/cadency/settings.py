"""Cadency settings. Every deployment knob is an environment variable (see README)."""

import os
from pathlib import Path

import dj_database_url

from cadency.lib.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("CADENCY_VAR_DIR", str(Path.cwd() / "var")))

DEBUG = env_bool("CADENCY_DEBUG", False)
SECRET_KEY = env_str("CADENCY_SECRET_KEY", "insecure-dev-key-change-me-in-production")
# Keys that encrypt mailbox secrets at rest; the first encrypts, all decrypt (rotation).
CADENCY_ENCRYPTION_KEYS = env_list("CADENCY_ENCRYPTION_KEYS", [])
ALLOWED_HOSTS = env_list("CADENCY_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CADENCY_CSRF_TRUSTED_ORIGINS", [])
# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto: requests count
# as https, and the session and CSRF cookies are sent over https only.
if env_bool("CADENCY_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Absolute base URL used in links placed in emails (unsubscribe, later tracking).
CADENCY_BASE_URL = env_str("CADENCY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Seconds a step run may stay "sending" before the sweep checks whether it left.
CADENCY_SENDING_STALE_SECONDS = env_int("CADENCY_SENDING_STALE_SECONDS", 120)
CADENCY_SWEEP_INTERVAL_SECONDS = env_int("CADENCY_SWEEP_INTERVAL_SECONDS", 30)
# Days a finished background task is kept before the sweep deletes it.
CADENCY_TASK_RETENTION_DAYS = env_int("CADENCY_TASK_RETENTION_DAYS", 7)
CADENCY_CALENDAR_SYNC_SECONDS = env_int("CADENCY_CALENDAR_SYNC_SECONDS", 60)
CADENCY_SMTP_TIMEOUT_SECONDS = env_int("CADENCY_SMTP_TIMEOUT_SECONDS", 30)
# A worker claims up to this many due emails of one mailbox at once, and sends
# them over up to this many parallel SMTP connections per mailbox.
CADENCY_SEND_BATCH = env_int("CADENCY_SEND_BATCH", 50)
CADENCY_SMTP_CONNECTIONS = env_int("CADENCY_SMTP_CONNECTIONS", 3)
# Retry delays (seconds) after a temporary SMTP failure; the last one repeats.
CADENCY_RETRY_DELAYS = [int(s) for s in env_list("CADENCY_RETRY_DELAYS", ["60", "300", "900"])]
# Accept reserved test domains (example.test) as real addresses: tests and demo mode.
CADENCY_ALLOW_TEST_DOMAINS = env_bool("CADENCY_ALLOW_TEST_DOMAINS", False)
CADENCY_DEMO = env_bool("CADENCY_DEMO", False)  # demo buttons on contacts: `make demo`
# How many times a recipient-specific temporary refusal (4xx, 5.2.2) is retried
# before it counts as a bounce. Connection failures are retried without limit.
CADENCY_MAX_RECIPIENT_ATTEMPTS = env_int("CADENCY_MAX_RECIPIENT_ATTEMPTS", 6)
# Inbound mail: soft bounces (mailbox full) for one address before it counts as a
# bounce; how far ahead a return date in an out-of-office reply may be.
CADENCY_SOFT_BOUNCE_LIMIT = env_int("CADENCY_SOFT_BOUNCE_LIMIT", 3)
CADENCY_RETURN_DATE_HORIZON_DAYS = env_int("CADENCY_RETURN_DATE_HORIZON_DAYS", 60)
# Only soft bounces received within this many days count towards the limit (0: all).
CADENCY_SOFT_BOUNCE_WINDOW_DAYS = env_int("CADENCY_SOFT_BOUNCE_WINDOW_DAYS", 30)
# An out-of-office reply that names no return date pauses for this many days
# (when the sequence pauses on out-of-office at all); 0 leaves it running.
CADENCY_OUT_OF_OFFICE_DEFAULT_DAYS = env_int("CADENCY_OUT_OF_OFFICE_DEFAULT_DAYS", 0)
# Rep absence: when a rep is back, at most this many overdue steps per mailbox per day
# (never more than its daily limit) and this many overdue tasks per day.
CADENCY_ABSENCE_CATCHUP_PER_DAY = env_int("CADENCY_ABSENCE_CATCHUP_PER_DAY", 50)
CADENCY_ABSENCE_TASKS_PER_DAY = env_int("CADENCY_ABSENCE_TASKS_PER_DAY", 20)
# Before sending, the inbox is read for replies unless it was read this many
# seconds ago (0: always read it first). A send is never made blind.
CADENCY_PRESEND_SYNC_SECONDS = env_int("CADENCY_PRESEND_SYNC_SECONDS", 0)
# How long a mailbox watcher's lease lasts; a dead watcher is replaced after it.
CADENCY_WATCHER_LEASE_SECONDS = env_int("CADENCY_WATCHER_LEASE_SECONDS", 15)
# A mailbox whose SMTP or IMAP connection or login fails this many times in a row
# pauses the enrollments that send through it and alerts its user; they resume
# when it works again. The worker re-tests failing mailboxes this often (seconds).
CADENCY_MAILBOX_FAILURES_BEFORE_PAUSE = env_int("CADENCY_MAILBOX_FAILURES_BEFORE_PAUSE", 3)
CADENCY_MAILBOX_RETEST_SECONDS = env_int("CADENCY_MAILBOX_RETEST_SECONDS", 300)
# Extra CA bundle trusted for mailbox TLS (self-hosted servers with a private CA).
CADENCY_MAIL_CA_FILE = env_str("CADENCY_MAIL_CA_FILE", "")
# A tracked click or open this soon after delivery is a security scanner's, not a person's.
CADENCY_TRACKING_BOT_SECONDS = env_int("CADENCY_TRACKING_BOT_SECONDS", 10)
# A workflow whose actions trigger workflows, and so on: the chain stops this deep.
CADENCY_AUTOMATION_MAX_CHAIN = env_int("CADENCY_AUTOMATION_MAX_CHAIN", 5)
# Seconds between webhook attempts; a delivery fails after the last one.
CADENCY_WEBHOOK_RETRY_DELAYS = [
    int(s) for s in env_list("CADENCY_WEBHOOK_RETRY_DELAYS", ["30", "120", "600", "3600", "21600"])
]
# Webhooks go to https URLs unless this allows plain http (tests, private networks).
CADENCY_WEBHOOKS_ALLOW_HTTP = env_bool("CADENCY_WEBHOOKS_ALLOW_HTTP", False)
# Bearer token Prometheus sends to /metrics; unset: only loopback clients may scrape.
CADENCY_METRICS_TOKEN = env_str("CADENCY_METRICS_TOKEN", "")
# Console log lines: "text" for people, "json" (one object per line) for log shippers.
CADENCY_LOG_FORMAT = env_str("CADENCY_LOG_FORMAT", "text").strip().lower()
if CADENCY_LOG_FORMAT not in {"text", "json"}:
    raise ValueError(f"CADENCY_LOG_FORMAT must be text or json, not {CADENCY_LOG_FORMAT!r}")
# Mail-client sidebar (/sidebar/, docs/mail-clients.md). Origins whose messages the
# sidebar page accepts and whose requests get CORS headers ("*" matches one host or
# extension id); and the pages allowed to frame it (CSP frame-ancestors sources).
CADENCY_SIDEBAR_ORIGINS = env_list(
    "CADENCY_SIDEBAR_ORIGINS", ["chrome-extension://*", "https://mail.google.com"]
)
CADENCY_SIDEBAR_FRAME_ANCESTORS = env_list(
    "CADENCY_SIDEBAR_FRAME_ANCESTORS",
    [
        "'self'",
        "https://mail.google.com",
        "chrome-extension://*",
        "https://outlook.office.com",
        "https://outlook.office365.com",
        "https://outlook.live.com",
        "https://*.officeapps.live.com",
    ],
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "cadency.accounts",
    "cadency.contacts",
    "cadency.mailboxes",
    "cadency.sequences",
    "cadency.ledger",
    "cadency.outbound",
    "cadency.inbound",
    "cadency.web",
    "cadency.deals",
    "cadency.automation",
    "cadency.meetings",
    "cadency.calendars",
    "cadency.api",
    "cadency.demo",
    "cadency.tracking",
    "cadency.sidebar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cadency.urls"
WSGI_APPLICATION = "cadency.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cadency.web.context_processors.navigation",
            ],
        },
    },
]

_sqlite_path = VAR_DIR / "cadency.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{_sqlite_path}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Tests use a file, not shared-cache memory: watcher threads and workers then
    # get SQLite's normal locking (WAL, busy timeout) instead of "table is locked".
    # One file per test process, so two test runs on one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-cadency-{os.getpid()}.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env_str("CADENCY_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "mail"],
    }
}

# Sign-ins are refused for a while after this many failures for one username, or from
# one address, within CADENCY_LOGIN_LOCKOUT_SECONDS (accounts/login_limits.py). Behind
# reverse proxies, CADENCY_TRUSTED_PROXIES says how many append to X-Forwarded-For.
AUTHENTICATION_BACKENDS = ["cadency.accounts.login_limits.LimitedModelBackend"]
CADENCY_LOGIN_FAILURES_PER_USERNAME = env_int("CADENCY_LOGIN_FAILURES_PER_USERNAME", 5)
CADENCY_LOGIN_FAILURES_PER_ADDRESS = env_int("CADENCY_LOGIN_FAILURES_PER_ADDRESS", 20)
CADENCY_LOGIN_LOCKOUT_SECONDS = env_int("CADENCY_LOGIN_LOCKOUT_SECONDS", 900)
CADENCY_TRUSTED_PROXIES = env_int("CADENCY_TRUSTED_PROXIES", 0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve app static files straight from the apps: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "cadency.web.jsonlog.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if CADENCY_LOG_FORMAT == "json" else "plain",
        }
    },
    "loggers": {
        "cadency": {"handlers": ["console"], "level": env_str("CADENCY_LOG_LEVEL", "INFO")},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
        # Server errors (500s with their traceback) reach the console in production too.
        "django": {"handlers": ["console"], "level": "ERROR"},
    },
}
