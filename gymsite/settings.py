"""Spotter settings: one module, driven by environment variables.

Every variable has a development default that needs nothing set; production sets
DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and EMAIL_URL
(see the README's "Environment variables").
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp import constants as csp
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from gymsite.env import env_bool, env_email, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_str(
    "SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Benchmark-only endpoints (the framework floor); bench/harness.py turns them on.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", default=False)

INSTALLED_APPS = [
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "accounts.apps.SpotterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "axes",
    "csp",
    "gymsite",
    "accounts",
    "memberships",
    "classes",
    "bookings",
    "billing",
    "access",
    "inventory",
    "staff",
    "training",
    "reports",
    "assistant",
]

MIDDLEWARE = [
    # First: /healthz answers even when the database or the cache is down.
    "gymsite.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "gymsite.security.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # NUL bytes in query strings and forms, bad JSON bodies: a 400 before any view.
    "gymsite.input.InputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.TenantMiddleware",
    "accounts.middleware.GymTimezoneMiddleware",
    # Last, so that a lockout answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gymsite.urls"
WSGI_APPLICATION = "gymsite.wsgi.application"

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
                "accounts.context_processors.tenant",
            ],
            "builtins": ["gymsite.templatetags.spotter"],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------
# scripts/run and scripts/test export DATABASE_URL, starting an embedded
# PostgreSQL (pgserver) when none is given.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spotter"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A database that does not answer fails a request (and /healthz) in seconds, not
# after the operating system's TCP timeout (libpq's minimum is 2).
DATABASES["default"]["OPTIONS"] = {"connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 3)}
if env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Server-side parameters, and a statement run five times on a connection is
    # prepared: PostgreSQL plans it once instead of on every request (the hot paths,
    # booking and check-in, spend more time planning than executing). Turn off behind
    # a pooler in transaction mode (PgBouncer < 1.21), which cannot keep them.
    DATABASES["default"]["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Spotter runs on PostgreSQL only: DATABASE_URL must be postgres://")
# Reports read from a streaming replica when there is one (reports/db.py, docs/reports.md);
# tests mirror it onto default.
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(env_str("DATABASE_REPLICA_URL"), conn_max_age=60),
        "OPTIONS": DATABASES["default"].get("OPTIONS", {}),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["reports.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RoleBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# django-axes owns the failed-login lockout (one clear message on every login
# path); allauth's other rate limits (sign-up, password reset, ...) stay on.
ACCOUNT_RATE_LIMITS = {"login_failed": None}
SOCIALACCOUNT_PROVIDERS = {}
GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID")
GOOGLE_CLIENT_SECRET = env_str("GOOGLE_CLIENT_SECRET")
if GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET:
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET, "key": ""}],
        "SCOPE": ["profile", "email"],
    }

# Brute force: lock a login (per email and IP) after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.views.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("da", _("Danish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language: British English's in gymsite/formats/en/.
FORMAT_MODULE_PATH = ["gymsite.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ----------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic (scripts/serve) puts the files WhiteNoise serves.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# STORAGE_BACKEND=s3 keeps uploads (member and trainer photos, product images) in
# any S3-compatible bucket through django-storages; the default is local files.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")
_default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID"),
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# Source maps are read by developer tools only: not worth compressing at every deploy.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email ---------------------------------------------------------------------
globals().update(env_email("EMAIL_URL", "console://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Spotter <no-reply@spotter.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# /healthz is probed over plain HTTP by load balancers.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content Security Policy (django-csp): our own files only; an inline <script> or
# <style> runs only with the request's nonce (`nonce="{{ request.csp_nonce }}"`), so
# injected markup cannot run script. The admin's policy is wider (gymsite.security).
_media_origins = []
if STORAGE_BACKEND == "s3":
    # Uploaded photos are shown straight from the bucket.
    from urllib.parse import urlsplit

    _endpoint = urlsplit(env_str("AWS_S3_ENDPOINT_URL"))
    _bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    _region = env_str("AWS_S3_REGION_NAME")
    if _endpoint.netloc:
        _media_origins = [
            f"{_endpoint.scheme}://{_endpoint.netloc}",
            f"{_endpoint.scheme}://{_bucket}.{_endpoint.netloc}",
        ]
    else:
        _media_origins = [f"https://{_bucket}.s3.amazonaws.com"]
        if _region:
            _media_origins.append(f"https://{_bucket}.s3.{_region}.amazonaws.com")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:", *_media_origins],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        # No form-action: paying by card posts here and is redirected to Stripe's
        # checkout page, which browsers check against form-action too.
    }
}
# Browser features no page of ours uses are turned off; the front desk's QR scanner
# needs the camera (same origin only) and the branch finder the location.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "geolocation": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "hid": [],
    "midi": [],
    "magnetometer": [],
    "gyroscope": [],
    "accelerometer": [],
    "display-capture": [],
    "browsing-topics": [],
}

# --- API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TenantJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON objects only (gymsite/api/parsers.py): depth, NUL and surrogates checked.
    "DEFAULT_PARSER_CLASSES": ["gymsite.api.parsers.JSONObjectParser"],
    "DEFAULT_PAGINATION_CLASS": "gymsite.api.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "600/minute"),
        "login": env_str("API_THROTTLE_LOGIN", "10/minute"),
    },
    "EXCEPTION_HANDLER": "gymsite.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
}
# The OpenAPI schema and its docs page: open to anyone in development, to the gym's
# staff (signed in to the back office, or with a staff JWT) in production.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", default=DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "Spotter API",
    "DESCRIPTION": "API for the Spotter mobile app and door devices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" or "kind"; name their enums after the model.
    "ENUM_NAME_OVERRIDES": {
        "PlanKindEnum": "memberships.models.Plan.Kind",
        "ClassSessionStatusEnum": "classes.models.ClassSession.Status",
        "OrderStatusEnum": "inventory.models.Order.Status",
        "RoleEnum": "accounts.models.Role",
        "ChatMessageRoleEnum": ["user", "assistant"],
        "AskAsRoleEnum": ["member", "trainer", "staff"],
        "MuscleEnum": "training.models.Muscle",
        "RecordKindEnum": "training.models.RecordKind",
        "MetricKindEnum": "training.models.MetricKind",
    },
}

# --- Cache ---------------------------------------------------------------------
# An accelerator only: with Redis unreachable gymsite.cache.RedisCache answers as an
# empty cache (logged) and requests fall back to the database (docs/architecture.md).
REDIS_URL = env_str("REDIS_URL")
REDIS_CACHE = {"BACKEND": "gymsite.cache.RedisCache", "LOCATION": REDIS_URL}
LOCAL_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
CACHES = {"default": REDIS_CACHE if REDIS_URL else LOCAL_CACHE}

# --- Celery: at-least-once background work --------------------------------------
# With REDIS_URL unset the broker is kombu's filesystem transport in .celery/, so
# the worker and beat run with no server to install. Work that must not be lost is
# written to the outbox table first (gymsite.outbox); the broker only carries ids.
CELERY_BROKER_DIR = BASE_DIR / ".celery"
# A publish from a request gives up fast (one connection attempt, short socket
# timeouts) and leaves the message to the outbox relay: with the broker down a
# request pays a fraction of a second, not kombu's default retry loop.
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 60 * 60 * 2,
    "socket_connect_timeout": 0.3,
    "socket_timeout": 0.5,
    "max_retries": 0,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_BROKER_DIR / "beat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Delivers what was not dispatched on commit (broker down, or hot paths such as
    # booking confirmations that leave delivery to the relay).
    "outbox-relay": {
        "task": "gymsite.tasks.outbox_relay",
        "schedule": float(env_int("OUTBOX_RELAY_SECONDS", 10)),
    },
    # Memberships: freezes, expiry, renewals, reminders (safe to re-run), early morning UTC.
    "memberships-daily": {
        "task": "memberships.tasks.memberships_daily",
        "schedule": crontab(hour=4, minute=0),
    },
    # A second renewal pass catches anything the first missed (a crashed worker).
    "memberships-renew": {
        "task": "memberships.tasks.memberships_renew",
        "schedule": crontab(hour=10, minute=0),
    },
    # Dunning retries: delays live on the invoice (next_collection_at).
    "billing-collect-due": {"task": "billing.tasks.billing_collect_due", "schedule": 60.0 * 15},
    "billing-account-charges": {
        "task": "billing.tasks.billing_account_charges_sweep",
        "schedule": crontab(hour=5, minute=0),
    },
    "inventory-holds-expire": {"task": "inventory.tasks.holds_expire", "schedule": 60.0},
    # Stripe: compare recent payments and refunds with Stripe, fix missed webhooks.
    "stripe-reconcile": {
        "task": "billing.stripe.tasks.stripe_reconcile_all",
        "schedule": crontab(minute=40, hour="*/3"),
    },
    # Classes: keep recurring schedules materialised CLASSES_MATERIALISE_WEEKS ahead.
    "classes-materialise": {
        "task": "classes.tasks.classes_materialise_sessions",
        "schedule": crontab(minute=15),
    },
    "bookings-reminders": {"task": "bookings.tasks.bookings_send_reminders", "schedule": 60.0 * 5},
    # No-shows and closing waitlists after classes end.
    "bookings-settle": {"task": "bookings.tasks.bookings_settle_finished", "schedule": 60.0 * 5},
    # Staff: flag shifts still clocked in long after their end; certification reminders.
    "staff-missed-clock-outs": {
        "task": "staff.tasks.shifts_flag_missed_clock_out",
        "schedule": 60.0 * 15,
    },
    "staff-certification-reminders": {
        "task": "staff.tasks.certifications_remind",
        "schedule": crontab(hour=7, minute=30),
    },
    # Reports: fold what changed into the daily rollups; the weekly summary on Mondays.
    "reports-fold": {"task": "reports.tasks.reports_fold", "schedule": 60.0 * 5},
    "reports-weekly-summary": {
        "task": "reports.tasks.reports_weekly_summary",
        "schedule": crontab(day_of_week=1, hour=6, minute=30),
    },
    # The access log's monthly partitions, created months ahead (idempotent).
    "access-partitions": {
        "task": "access.tasks.access_partitions_ensure",
        "schedule": crontab(hour=3, minute=30),
    },
}
# How many weeks of class sessions exist ahead of today (members can book that far).
CLASSES_MATERIALISE_WEEKS = env_int("CLASSES_MATERIALISE_WEEKS", 6)

# --- Access: door devices' limits (access/ratelimit.py, docs/access.md) -----------
# Requests per device and per source address ("off" for none); over them, 429. They
# fail open when the cache is down: a door must open for a valid member.
ACCESS_THROTTLE_DEVICE = env_str("ACCESS_THROTTLE_DEVICE", "120/minute")
ACCESS_THROTTLE_ADDRESS = env_str("ACCESS_THROTTLE_ADDRESS", "1200/minute")
# More invalid device keys (per device prefix, per address) or unknown credentials
# (per device) than this flags the device, or the address, to staff.
ACCESS_FLAG_FAILURES = env_str("ACCESS_FLAG_FAILURES", "20/minute")
# The cache holding those counters.
ACCESS_RATELIMIT_CACHE = "default"

# --- Inventory -------------------------------------------------------------------
# Flash-sale holds commit without waiting for the WAL flush (docs/inventory.md).
INVENTORY_HOLD_ASYNC_COMMIT = env_bool("INVENTORY_HOLD_ASYNC_COMMIT", default=True)

# --- Logging: one JSON object a line -------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "gymsite.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The Stripe library logs request bodies at DEBUG: keep it quiet whatever LOG_LEVEL.
        "stripe": {"level": "WARNING"},
    },
}

# --- Admin (django-unfold) -------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Spotter",
    "SITE_HEADER": "Spotter",
    "SITE_SYMBOL": "fitness_center",
    "SHOW_HISTORY": True,
    "DASHBOARD_CALLBACK": "reports.dashboard.dashboard_callback",
    # The two pages staff use all day, above the app list.
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Front of house"),
                "items": [
                    {
                        "title": _("Front desk"),
                        "icon": "badge",
                        "link": reverse_lazy("access:desk"),
                        "permission": "accounts.admin_site.can_use_desk",
                    },
                    {
                        "title": _("Till"),
                        "icon": "point_of_sale",
                        "link": reverse_lazy("inventory:pos"),
                        "permission": "accounts.admin_site.can_use_till",
                    },
                ],
            },
        ],
    },
}

# --- Payments ------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# Payment providers beyond the built-in manual and sandbox ones (docs/stripe.md).
BILLING_PROVIDERS = ("billing.providers.stripe",)
# Billing: days after a failed automatic charge to try again; after the last, suspended.
BILLING_DUNNING_RETRY_DAYS = tuple(
    int(d) for d in env_list("BILLING_DUNNING_RETRY_DAYS", "1,3,7") if d.strip()
)
# The sandbox provider (test payments, no network) for development and demos.
BILLING_SANDBOX_ENABLED = env_bool("BILLING_SANDBOX_ENABLED", default=DEBUG)
# Memberships: reminder emails this many days before a membership ends.
MEMBERSHIP_REMINDER_DAYS = (7, 1)

# --- Assistant (docs/assistant.md) -----------------------------------------------
# Any OpenAI-compatible chat API with tool calls; unset: the built-in engine answers.
ASSISTANT = {
    "BASE_URL": env_str("ASSISTANT_BASE_URL"),
    "MODEL": env_str("ASSISTANT_MODEL"),
    "API_KEY": env_str("ASSISTANT_API_KEY"),
    "TIMEOUT": env_int("ASSISTANT_TIMEOUT_SECONDS", 30),
}
