"""Django settings, read from environment variables with defaults that need no server."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("CATALOG_VAR_DIR", BASE_DIR / "var"))
# The embedded store and Django's own SQLite database live here; a fresh clone has no var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)


def envbool(name: str, default: bool) -> bool:
    """Return a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    """Return an integer environment variable."""
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def envlist(name: str, default: str) -> list[str]:
    """Return a comma-separated environment variable as a list."""
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


DEBUG = envbool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

# --- the catalog -----------------------------------------------------------------
# Where documents live: embedded:///abs/path.sqlite3 (default) or couchbase://host.
CATALOG_STORE = os.environ.get("CATALOG_STORE", f"embedded://{VAR_DIR / 'catalog.sqlite3'}")
CATALOG_BUCKET = os.environ.get("CATALOG_BUCKET", "ml")
CATALOG_SCOPE = os.environ.get("CATALOG_SCOPE", "catalog")
COUCHBASE_USERNAME = os.environ.get("COUCHBASE_USERNAME", "catalog")
COUCHBASE_PASSWORD = os.environ.get("COUCHBASE_PASSWORD", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "catalog.domain",  # app label "catalog": API tokens (its migrations)
    "catalog.web",  # template tags, system checks
    "catalog.cli",  # manage.py catalog ...
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "catalog.web.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "catalog.shell.urls"
WSGI_APPLICATION = "catalog.shell.wsgi.application"

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

# Users, sessions and API tokens live in Django's own database, not in the document store.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB", str(VAR_DIR / "web.sqlite3")),
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Largest model accepted by the upload page and API, in MB.
CATALOG_MAX_UPLOAD_MB = envint("CATALOG_MAX_UPLOAD_MB", 200)
# Uploads: keep large files on disk, not in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("CATALOG_MAX_JSON_BODY_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- inference ---------------------------------------------------------------------
# Memory budget of the onnxruntime session cache (LRU), in MB.
CATALOG_SESSION_CACHE_MB = envint("CATALOG_SESSION_CACHE_MB", 512)
# Log every prediction to the `predictions` collection (training data for online learning).
CATALOG_PREDICTION_LOG = envbool("CATALOG_PREDICTION_LOG", False)
# How long logged predictions are kept, in seconds (0: forever).
CATALOG_PREDICTION_TTL_S = envint("CATALOG_PREDICTION_TTL_S", 30 * 24 * 3600)
# Most rows in one prediction request or batch CSV.
CATALOG_MAX_BATCH = envint("CATALOG_MAX_BATCH", 10_000)
# Time limit of one model run, in seconds (0: none).
CATALOG_PREDICT_TIMEOUT_S = envint("CATALOG_PREDICT_TIMEOUT_S", 30)
# onnxruntime intra-op threads per session (0: onnxruntime's default, a pool per session).
CATALOG_ORT_THREADS = envint("CATALOG_ORT_THREADS", 1)

# --- serving: warm-up and gRPC (inference/warm.py, inference/grpc/) -------------------
# Models whose sessions each worker builds before taking requests ("name" or "name:ref"),
# besides the most recently served ones (remembered in VAR_DIR/recent-models.json).
CATALOG_WARM_MODELS = envlist("CATALOG_WARM_MODELS", "")
# Most seconds a worker spends warming sessions at start-up.
CATALOG_WARM_SECONDS = envint("CATALOG_WARM_SECONDS", 10)

# --- access ------------------------------------------------------------------------
# Reads are public unless CATALOG_PUBLIC_READS=0 (then a login or an API token is needed).
# Writes always need a staff user or the catalog.publish permission (session or token).
CATALOG_PUBLIC_READS = envbool("CATALOG_PUBLIC_READS", True)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- limits (catalog/limits.py documents each) ---------------------------------------
CATALOG_QUERY_TIMEOUT_S = float(os.environ.get("CATALOG_QUERY_TIMEOUT_S", "10"))
CATALOG_QUERY_MEMORY_MB = float(os.environ.get("CATALOG_QUERY_MEMORY_MB", "128"))
CATALOG_QUERY_CONCURRENCY = envint("CATALOG_QUERY_CONCURRENCY", 1)
CATALOG_ALL_VERSIONS_SEARCHES = envint("CATALOG_ALL_VERSIONS_SEARCHES", 1)
# Run each workbench statement in a forked child (RLIMIT_AS, nice, hard kill); embedded only.
CATALOG_QUERY_FENCED = envbool("CATALOG_QUERY_FENCED", False)
CATALOG_QUERY_MAX_ROWS = envint("CATALOG_QUERY_MAX_ROWS", 1000)
CATALOG_QUERY_MAX_CHARS = envint("CATALOG_QUERY_MAX_CHARS", 20_000)

# --- document schema and query access (helper harden; catalog/domain/limits.py) -------
# Collections of the catalog scope that anonymous and non-staff users may query with SQL++
# (workbench, /api/query); staff query every keyspace.
CATALOG_PUBLIC_QUERY_KEYSPACES = os.environ.get("CATALOG_PUBLIC_QUERY_KEYSPACES", "models,aliases")
# Most nodes (subgraphs included) of a published model; checked before validation.
CATALOG_MAX_NODES = envint("CATALOG_MAX_NODES", 50_000)
# Nesting depth and size of a version's metadata (publish and import refuse more).
CATALOG_METADATA_MAX_DEPTH = envint("CATALOG_METADATA_MAX_DEPTH", 32)
CATALOG_METADATA_MAX_KB = envint("CATALOG_METADATA_MAX_KB", 1024)

# --- production: refuse DEBUG, a dev/short/missing key, ALLOWED_HOSTS "*" -------------
CATALOG_PRODUCTION = envbool("CATALOG_PRODUCTION", False)
if CATALOG_PRODUCTION:
    from catalog.web.security import check_production_settings

    check_production_settings(globals())

# --- web: one error mapping, request hardening, TLS (catalog/web/errors.py, security.py) ---
# Domain errors -> {"error", "status"} JSON or the error page; bare 405s the same way.
MIDDLEWARE += ["catalog.web.errors.ErrorMiddleware"]
# Deepest nesting of arrays/objects in a JSON body or field (catalog/domain/jsonbody.py).
CATALOG_MAX_JSON_DEPTH = envint("CATALOG_MAX_JSON_DEPTH", 64)
# Largest file in a multipart form other than a model upload (CSV, .npy), in MB; uploads
# over it (or over CATALOG_MAX_UPLOAD_MB for models) are refused while they stream in.
CATALOG_MAX_FILE_UPLOAD_MB = envint("CATALOG_MAX_FILE_UPLOAD_MB", 32)
FILE_UPLOAD_HANDLERS = [
    "catalog.web.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Behind TLS (a proxy that terminates HTTPS and sets X-Forwarded-Proto), CATALOG_TLS=1 turns
# on secure cookies, HSTS and the HTTPS redirect together; each can be set on its own too.
CATALOG_TLS = envbool("CATALOG_TLS", False)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", CATALOG_TLS)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", CATALOG_TLS)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", CATALOG_TLS)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if CATALOG_TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", CATALOG_TLS)
# "preload" only allows submitting the domain to browsers' preload list; it enrols nothing.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", CATALOG_TLS)
if envbool("CATALOG_BEHIND_PROXY", CATALOG_TLS):
    # Trust the proxy's X-Forwarded-Proto (only when every request comes through it).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes come over plain HTTP from inside the network: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^v2/health/"]
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

# --- harden: a refused CSRF check answers in the one error shape (catalog/web/errors.py) ---
CSRF_FAILURE_VIEW = "catalog.web.errors.csrf_failure"
