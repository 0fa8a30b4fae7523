"""Overturn settings: one module, every knob read from an environment variable.

SQLite is the embedded default so a fresh checkout runs with no service; DATABASE_URL
selects PostgreSQL. With no CELERY_BROKER_URL, Celery tasks run in-process.

Production is DEBUG unset (or 0) with SECRET_KEY and ALLOWED_HOSTS set: cookies are then
secure, HSTS is on and plain HTTP is redirected, and `manage.py check --deploy` is clean.
Development is DEBUG=1 (`make run` sets it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


VAR_DIR = Path(env_str("OVERTURN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# pytest sets PYTEST_VERSION in its process and every process it starts (xdist workers, the
# Celery workers and gunicorn of the integration tests): those share a fixed test key.
TESTING = "PYTEST_VERSION" in os.environ
DEVELOPMENT_SECRET_KEY = "overturn-insecure-development-key-change-me-0123456789"  # noqa: S105

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if TESTING:
        SECRET_KEY = "overturn-test-only-key-" + "0123456789abcdefghijklmnopqrstuvwxyz"
    elif DEBUG:
        # Sessions, password-reset links and CSRF tokens are signed with this key: the committed
        # one is only good on a laptop, so say so every time a process starts with it.
        SECRET_KEY = DEVELOPMENT_SECRET_KEY
        sys.stderr.write("Overturn: DEBUG=1 and no SECRET_KEY set: using the development key (never in production).\n")
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for development."
        )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_htmx",
    "template_partials",
    "simple_history",
    "import_export",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ncci",
    "denials",
    "appeals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before sessions and the rest: no cookies, cacheable.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every response a signed-in user gets may carry patient data: never stored by a browser or proxy.
    "config.middleware.NoStoreForSignedInMiddleware",
    "config.middleware.IdleSessionMiddleware",
    # Sign-in is required everywhere; the few public views opt out explicitly.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Signed in but no role (coder, manager, admin): nothing but their own account.
    "denials.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a lockout flagged during sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "denials.context_processors.user_role",
            ],
        },
    }
]


# --- Database ------------------------------------------------------------------------
def _sqlite_test_path() -> str:
    """The test run's SQLite database is a file like the one `make run` uses, not Django's
    in-memory default: in memory with a shared cache, a second writer (the live server's threads
    answering a page's concurrent requests) is refused at once with "database table is locked"
    instead of waiting its turn, which made the browser tests fail at random. One file per run
    (xdist workers share PYTEST_XDIST_TESTRUNUID; pytest-django adds _gw0, _gw1), in the
    project's var/ folder, removed when the run ends."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return str(VAR_DIR / f"test-{run}.sqlite3")


if env_str("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Parameters sent apart from the SQL text, and a statement run DATABASE_PREPARE_THRESHOLD
        # times on one connection prepared there: PostgreSQL then plans the page's queries once
        # per connection instead of on every request. Off (0) behind a pooler in transaction
        # mode, such as PgBouncer before 1.21, which cannot follow prepared statements.
        prepare_threshold = env_int("DATABASE_PREPARE_THRESHOLD", 5)
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=prepare_threshold > 0,
            prepare_threshold=prepare_threshold if prepare_threshold > 0 else None,
        )
else:
    # A fresh checkout has no var/ yet: make it, or SQLite cannot create its file.
    Path(env_str("SQLITE_PATH", str(VAR_DIR / "overturn.sqlite3"))).parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "overturn.sqlite3")),
            "OPTIONS": {
                # A web process and a worker both write: wait for the lock instead of
                # failing, take the write lock at BEGIN so no transaction has to be
                # retried halfway, and let readers work beside a writer (WAL).
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", "") or _sqlite_test_path()},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username + address before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# WhiteNoise serves `collectstatic`'s output from the gunicorn processes, compressed. No
# manifest (hashed names): the test suite and `runserver` then need no collectstatic run.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if DEBUG or TESTING:
    # runserver and the test servers serve static files from the source folders; WhiteNoise
    # would warn at every start that `collectstatic` (which make serve runs) has not run yet.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Uploaded 835 files can be large; keep them out of memory past this size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 200 * 1024 * 1024
MAX_REMITTANCE_FILE_BYTES = env_int("MAX_REMITTANCE_FILE_BYTES", 200 * 1024 * 1024)

# --- Sessions, cookies, transport security ------------------------------------------------
# Idle timeout: a session ends SESSION_IDLE_MINUTES after the last request (config.middleware.
# IdleSessionMiddleware moves the expiry forward, at most once a minute so a page costs no
# session write), and the cookie dies with the browser on a shared workstation.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
X_FRAME_OPTIONS = "DENY"

# Behind a proxy that terminates TLS, name the header it sets (e.g. X-Forwarded-Proto) so
# Django knows the browser used HTTPS. Only set it when the proxy always overwrites that header.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# On by default in production. Turn it off only when the proxy in front redirects HTTP to
# HTTPS itself (then Django's own check W008 is silenced below: the operator chose it).
# (The test suite talks plain HTTP to its test client and live server, so not there either.)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
# Load balancers probe /healthz over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# The header's preload flag alone enrols nothing: a site owner still submits the domain.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp 4) --------------------------------------------------
# Scripts and style sheets only from our own static files: no inline <script>, no CDN. The
# progress bars set `style="--pct: 40%"`, so inline style *attributes* (not <style> blocks)
# are allowed; htmx's own indicator <style> is switched off in base.html's htmx-config.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Sign-in throttling (django-axes) -------------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (even with the right password) for AXES_COOLOFF_MINUTES; an admin can unlock
# sooner (`manage.py axes_reset_username NAME`, or delete the attempt in the admin).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = AXES_COOLOFF_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Behind N proxies, the client's address is the Nth entry from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"

# --- E-mail and password reset ----------------------------------------------------------------
# Password reset by e-mail exists only when an SMTP server is configured; otherwise its URLs
# are not mounted and an admin sets a new password (signed-in users can always change theirs).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "overturn@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60) * 60

# --- REST API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate challenge from the first class, and only a
    # class with a challenge makes an anonymous call answer 401 (SessionAuthentication has none: 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every body the API cannot read answers 400 with the reason (config/parsers.py), never a 500.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.StrictJSONParser",
        "config.parsers.StrictFormParser",
        "config.parsers.StrictMultiPartParser",
    ],
    # Signed in, and with a role: an account with no role gets nothing from the API either.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "denials.access.HasRole"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Overturn API",
    "DESCRIPTION": "Remittance files, claims, denials and NCCI reference data. Session or token authentication.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "denials.access.HasRole"],
    # Swagger UI from the vendored drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Schema warnings are checked by tests/test_production_settings.py (`spectacular --validate`),
    # not by `check --deploy`, whose WARNING level must stay about the deployment itself.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# --- Ingest leases (read together with the broker's visibility timeout below) -----------
# A worker holds a file under a lease it renews after each transaction set; a file whose
# worker has not reported for this long is taken up again by the sweeper (every
# INGEST_SWEEP_SECONDS, from beat). A worker that died whole is so replaced within
# lease + sweep interval (6 minutes with the defaults).
INGEST_LEASE_SECONDS = env_int("INGEST_LEASE_SECONDS", 300)
INGEST_SWEEP_SECONDS = env_int("INGEST_SWEEP_SECONDS", 60)
# A file whose ingestion failed this many times (crash, database error) stops being
# retried: it shows "failed" with its reason and a Retry button.
INGEST_MAX_ATTEMPTS = env_int("INGEST_MAX_ATTEMPTS", 3)
# The ingest's PostgreSQL backend gets the worker's CPU niceness (`make serve`: WORKER_NICE),
# so the database work of a big file also yields to people's requests. Only where it is
# certainly that backend and allowed: PostgreSQL over TCP on the same machine, the worker
# running as root, with CAP_SYS_NICE or as PostgreSQL's user (denials.services.receiving).
INGEST_BACKEND_NICE = env_bool("INGEST_BACKEND_NICE", True)
# After each chunk of 2,000 claims an ingest pauses this share (in percent) of the time the
# chunk took: 100 leaves the CPUs to people's requests half the time, and a file then takes
# twice as long. 0 (the default): no pause.
INGEST_PAUSE_PERCENT = env_int("INGEST_PAUSE_PERCENT", 0)

# --- Celery --------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# No broker: run tasks in the calling process, so the demo needs no service at all.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only after it finished; if the worker dies, it runs again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "overturn")
# Without beat, an unacknowledged task (its worker died) comes back after this long; kept a
# little above the lease so a redelivery finds the dead worker's lease already expired. Tasks
# that may run longer than this claim their work (files: the lease; NCCI imports: their row).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", INGEST_LEASE_SECONDS + 60)
}
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-remittance-files": {
        "task": "denials.tasks.sweep_stuck_remittance_files",
        "schedule": float(INGEST_SWEEP_SECONDS),
    },
    "scan-inbox": {"task": "denials.tasks.scan_inbox", "schedule": 15.0},
    # Overdue appeals and appeal windows closing within 7 days (appeals.tasks), 05:30 local time.
    "appeals-daily-check": {"task": "appeals.tasks.appeals_daily_check", "schedule": crontab(hour=5, minute=30)},
    # The managers' figures follow the rows they copy (appeals.analytics_rollup); the page shows their time.
    # Five minutes: finding what changed reads every denial's stamps (tens of seconds at 1M on 2 busy CPUs).
    "refresh-figures": {"task": "appeals.tasks.refresh_figures", "schedule": 300.0},
}

# --- Overturn ------------------------------------------------------------------------
# Files dropped here are ingested once complete, then moved to processed/ or failed/.
INBOX_DIR = env_str("INBOX_DIR", "")
# Run pyx12's full 5010 implementation-guide validation after each ingest (slow, optional).
STRICT_X12_VALIDATION = env_bool("STRICT_X12_VALIDATION", True)
STRICT_X12_VALIDATION_MAX_BYTES = env_int("STRICT_X12_VALIDATION_MAX_BYTES", 2 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# On SQLite, PostgreSQL-only index options (INCLUDE columns, NULLS NOT DISTINCT) are
# skipped: the indexes and constraints still exist on PostgreSQL, where they matter.
SILENCED_SYSTEM_CHECKS = ["models.W040", "models.W047"]
if not SECURE_SSL_REDIRECT and env_str("SECURE_SSL_REDIRECT"):
    # SECURE_SSL_REDIRECT=0 was chosen explicitly: the TLS proxy in front redirects HTTP itself.
    SILENCED_SYSTEM_CHECKS.append("security.W008")
