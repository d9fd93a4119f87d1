"""Settings for every environment, read from environment variables (see README)."""

import logging
from pathlib import Path

import dj_database_url
import orjson
from django.core.exceptions import ImproperlyConfigured

from cqrs_demo import logs
from cqrs_demo.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", False)

_INSECURE_KEY = "django-insecure-dev-only-key-change-me"
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
if not DEBUG and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "products",
]

MIDDLEWARE = [
    "cqrs_demo.middleware.RequestLogMiddleware",
    "cqrs_demo.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cqrs_demo.middleware.ApiTrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cqrs_demo.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cqrs_demo.urls"
WSGI_APPLICATION = "cqrs_demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project overrides of app templates (ReDoc's page without its Google Fonts links).
        "DIRS": [BASE_DIR / "cqrs_demo" / "templates"],
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


def _database_url():
    url = env_str("DATABASE_URL")
    if url:
        return url
    from cqrs_demo.embedded_db import database_url

    return database_url()


# No health check query per request (a second round trip on every read): a connection the
# server closed is dropped at the next request's start by a look at its socket instead
# (cqrs_demo/db_connections.py), and Django checks a connection after an error on it.
_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", False)
DATABASES = {
    "default": dj_database_url.parse(
        _database_url(),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=_HEALTH_CHECKS,
    )
}
# Split mode: the read tables live in their own database, fed by `project_events --follow`.
if env_str("READ_DATABASE_URL"):
    DATABASES["read"] = dj_database_url.parse(
        env_str("READ_DATABASE_URL"), conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=_HEALTH_CHECKS
    )
# Single-database mode with streaming replicas: read-side queries go to one of these.
READ_REPLICA_ALIASES = []
for _index, _url in enumerate(env_list("READ_REPLICA_URLS")):
    READ_REPLICA_ALIASES.append(f"replica_{_index}")
    DATABASES[f"replica_{_index}"] = dj_database_url.parse(
        _url, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=_HEALTH_CHECKS
    )
if "read" in DATABASES and READ_REPLICA_ALIASES:
    raise ImproperlyConfigured("READ_REPLICA_URLS is for single-database mode; unset READ_DATABASE_URL.")
CQRS_MODE = "split" if "read" in DATABASES else "single"
DATABASE_ROUTERS = ["cqrs_demo.routers.ReadModelRouter"]

for _database in DATABASES.values():
    _database.setdefault("OPTIONS", {})
    # "?host=/socket/dir" (the embedded server's URL form) is the HOST, as everywhere else.
    if not _database["HOST"] and "host" in _database["OPTIONS"]:
        _database["HOST"] = _database["OPTIONS"].pop("host")
    # Fail fast when a database is unreachable instead of hanging a worker.
    _database["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))

# The brokers `publish_events` (the outbox relay) publishes to: RabbitMQ (the default) or
# Kafka (`--broker kafka`); each relay checks its own settings when it starts.
RABBITMQ_URL = env_str("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RABBITMQ_EXCHANGE = env_str("RABBITMQ_EXCHANGE", "inventory.events")
KAFKA_BOOTSTRAP_SERVERS = env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
KAFKA_TOPIC = env_str("KAFKA_TOPIC", "inventory.events")
# Seconds a Kafka batch may wait for the brokers' acknowledgement before the relay retries it.
KAFKA_DELIVERY_TIMEOUT = env_int("KAFKA_DELIVERY_TIMEOUT", 10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve straight from the app folders when collectstatic has not run (plain `gunicorn` runs).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)

# Requests larger than this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)

# Security: behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health probes come over plain HTTP from the orchestrator.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The cache holds DRF's throttle counts. With REDIS_URL every gunicorn worker (and every
# replica) counts against the same limits; without it each worker process keeps its own.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "inventory"),
            # Fail fast (503) rather than hang a worker when Redis is unreachable.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

API_READS_REQUIRE_AUTH = env_bool("API_READS_REQUIRE_AUTH", False)

# Idempotency keys are kept at least this long (purge_idempotency_keys deletes older ones).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a missing or bad credential answers 401 rather than 403.
        "products.http.authentication.TokenAuthentication",
        "products.http.authentication.SessionAuthentication",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "products.http.negotiation.RememberingContentNegotiation",
    "DEFAULT_PERMISSION_CLASSES": ["products.http.permissions.ReadOpenWriteWithModelPermission"],
    "DEFAULT_RENDERER_CLASSES": [
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # The API speaks JSON only (the browsable API's raw-data form sends JSON too).
    "DEFAULT_PARSER_CLASSES": ["drf_orjson_renderer.parsers.ORJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("THROTTLE_ANON_RATE", "1000/min"),
        "user": env_rate("THROTTLE_USER_RATE", "10000/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "products.http.schema.InventoryAutoSchema",
    "EXCEPTION_HANDLER": "products.http.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": [],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Datetimes as DRF writes them: "2026-01-31T12:00:00.123456Z".
    # NON_STR_KEYS: DRF keys the errors of a list's items by their index (an int).
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_UTC_Z, orjson.OPT_NON_STR_KEYS),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Product inventory API",
    "DESCRIPTION": (
        "A CQRS product-inventory service: commands write normalized tables, queries read "
        "denormalized read tables kept in sync by a signal-driven projector."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Named for generated clients (ReservationStatus.ACTIVE), not after the field ("StatusEnum").
    "ENUM_NAME_OVERRIDES": {"ReservationStatus": "products.read.queries.reservations.STATUS_FILTERS"},
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "products.http.schema.tighten_request_bodies",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tokenAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "Token authentication: `Token <key>` (a key comes from `manage.py drf_create_token`).",
            }
        }
    },
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# JSON lines on stderr, in the format gunicorn's own log uses too (cqrs_demo/logs.py); Python
# warnings become such lines as well (logger "py.warnings").
logging.captureWarnings(True)
LOGGING = logs.config(
    LOG_LEVEL,
    {
        # The request middleware logs every request once; Django's own copy would double it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "pika": {"level": "WARNING"},
    },
)
