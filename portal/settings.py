"""Settings for the reliability portal, read from the environment (see .env.example)."""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Read before any setting, PORTAL_VAR_DIR included: a value in .env counts like one in the
# environment (which wins).
env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    # No key in the environment: use one generated for this machine and kept under var/,
    # so a checkout runs without a secret ever being written into the repository.
    _key_file = VAR_DIR / "secret-key"
    if not _key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "simple_history",
    "portal",
    "services",
    "incidents",
    "toil",
]

MIDDLEWARE = [
    "portal.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RefuseNulCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portal.timezones.ViewerTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.roles.role_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for locks instead of failing,
    # and take the write lock up front so concurrent writers queue cleanly.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve static files straight from the finders when no collectstatic has run
# (make run, tests); production images run collectstatic.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

# Transport security. Behind an HTTPS proxy, production sets SECURE_COOKIES, SECURE_SSL_REDIRECT,
# SECURE_HSTS_SECONDS and TRUST_X_FORWARDED_PROTO (see README, "Running in production").
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# The probes are called over plain HTTP from inside the cluster (load balancer, Prometheus).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# X-Forwarded-Proto says whether the client used HTTPS only when a proxy that we run sets it
# (and strips the client's own); trusted otherwise, any client could claim HTTPS.
TRUST_X_FORWARDED_PROTO = env.bool("TRUST_X_FORWARDED_PROTO", default=False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The default cache keeps the API's rate-limit counters: per process unless CACHE_URL names a
# shared cache (e.g. redis://redis:6379/1), which makes the limits hold across workers.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds an SMTP connect, command or reply may take: a server that accepts and never
# answers must not hold a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="reliability-portal@localhost")

# Celery: Redis in production; an embedded file-system broker when no broker URL is set,
# so `make run` needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
    # The transport expects its folders to exist; web, worker and beat may start in any order.
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # A publish to a broker that is down fails at once instead of retrying for seconds: the
    # broker is a doorbell (portal.doorbell), and a request must not hang on it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers log through LOGGING (below) (JSON in production) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 60.0},
    "sync-slis": {"task": "services.tasks.sync_slis", "schedule": 60.0},
    "sweep": {"task": "portal.tasks.sweep", "schedule": 60.0},
    "recompute-incident-metrics": {
        "task": "incidents.tasks.recompute_incident_metrics",
        "schedule": 300.0,
    },
    "recompute-dora": {"task": "toil.tasks.changes.recompute_all_dora", "schedule": 3600.0},
}
# Every task is bounded: a hung mail server or query ends in a soft time limit (the task
# records why) and, if that is ignored, a hard one that replaces the worker process.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# The sweeps that portal.tasks.sweep rings every minute and at worker start: each finds
# recorded work (dirty snapshots, unsent messages) whose enqueueing was lost, and does it.
PORTAL_SWEEPS = [
    "toil.tasks.changes.sweep_changes",
]
# A heartbeat older than this means the worker or beat is not running.
HEARTBEAT_STALE_AFTER_SECONDS = env.int("HEARTBEAT_STALE_AFTER_SECONDS", default=180)

# Bearer token that Prometheus sends to scrape /metrics; /metrics answers 404 while unset.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# SLIs: the Prometheus whose HTTP API the sync queries, how long one query may take, and
# how old the newest SLI data may be before an SLO is shown as stale.
PROMETHEUS_URL = env.str("PROMETHEUS_URL", default="http://127.0.0.1:9090")
PROMETHEUS_TIMEOUT_SECONDS = env.float("PROMETHEUS_TIMEOUT_SECONDS", default=10.0)
SLI_STALE_AFTER_MINUTES = env.int("SLI_STALE_AFTER_MINUTES", default=15)

# Alert intake: the bearer token Alertmanager's webhook sends, and how an alert's
# `severity` label maps to an incident severity (label=SEV,...).
ALERTMANAGER_WEBHOOK_TOKEN = env.str("ALERTMANAGER_WEBHOOK_TOKEN", default="")
ALERT_SEVERITY_MAP = env.dict(
    "ALERT_SEVERITY_MAP",
    default={
        "critical": "SEV1",
        "page": "SEV2",
        "error": "SEV2",
        "warning": "SEV3",
        "info": "SEV4",
    },
)
ALERT_DEFAULT_SEVERITY = env.str("ALERT_DEFAULT_SEVERITY", default="SEV3")

# Post-mortems of SEV1/SEV2 incidents are due this many working days after resolution.
POSTMORTEM_DUE_WORKING_DAYS = env.int("POSTMORTEM_DUE_WORKING_DAYS", default=5)

# Change approvals and the deploy gate (toil): how many change approvers a standard change
# needs, and the longest an SRE lead's override of the gate may last.
CHANGE_STANDARD_APPROVALS = env.int("CHANGE_STANDARD_APPROVALS", default=2)
GATE_OVERRIDE_MAX_HOURS = env.int("GATE_OVERRIDE_MAX_HOURS", default=24)

# Where links in emails point (the portal's public address).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Where portal.roles finds the teams whose records a user edits (the services app's
# memberships), named here so that portal's infrastructure imports no app.
PORTAL_EDITABLE_TEAM_IDS = "services.selectors.team_ids_edited_by"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.JSONParser",
        "portal.api.parsers.FormParser",
        "portal.api.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["portal.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.pagination.PortalPagination",
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.UserRateThrottle",
        "portal.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # Per user (token or session): a pipeline polling every second stays far below.
        "user": env.str("API_THROTTLE_USER_RATE", default="1200/minute"),
        # Per client address, for callers without a user (the Alertmanager webhook).
        "anon": env.str("API_THROTTLE_ANON_RATE", default="600/minute"),
    },
    # Proxies in front of the portal whose X-Forwarded-For the rate limits may believe.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API tokens (django-rest-knox): kept as digests, never expiring unless made with an expiry.
REST_KNOX = {"TOKEN_TTL": None, "AUTO_REFRESH": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reliability Portal API",
    "DESCRIPTION": "Service catalog, teams and the reliability records around them.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Several models have a "status", "role" or "kind": name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "AlertStatusEnum": "incidents.choices.AlertStatus",
        "PostMortemStatusEnum": "incidents.choices.PostMortemStatus",
        "ActionItemStatusEnum": "incidents.choices.ActionItemStatus",
        "IncidentRoleEnum": "incidents.choices.IncidentRole",
        "MembershipRoleEnum": "services.choices.MembershipRole",
        "TimelineKindEnum": "incidents.choices.TimelineKind",
        "StatusUpdateKindEnum": "incidents.choices.StatusUpdateKind",
        "ActionItemKindEnum": "incidents.choices.ActionItemKind",
        "IncidentSourceEnum": "incidents.choices.IncidentSource",
        "SLISourceEnum": "services.choices.SLISource",
        "SLIKindEnum": "services.choices.SLIKind",
        "QueryKindEnum": "services.choices.QueryKind",
        "WindowKindEnum": "services.choices.WindowKind",
        "ChangeCategoryEnum": "toil.choices.changes.ChangeCategory",
        "ChangeStatusEnum": "toil.choices.changes.ChangeStatus",
        "ApprovalDecisionEnum": "toil.choices.changes.ApprovalDecision",
        "ApproverRoleEnum": "toil.choices.changes.ApproverRole",
        "ChangeEventKindEnum": "toil.choices.changes.ChangeEventKind",
        "FreezeScopeEnum": "toil.choices.changes.FreezeScope",
        "GateDecisionKindEnum": "toil.choices.changes.GateDecisionKind",
        "DeploymentStatusEnum": "toil.choices.changes.DeploymentStatus",
    },
    # The truth about errors: every operation documents the 400/401/403/404 (and 413, 429,
    # 503) answers it can give, in one shape (portal.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.document_error_responses",
    ],
}

LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Named here so that Django's own console handler is dropped: every line goes
        # through the root handler once, in LOG_FORMAT.
        "django": {"level": LOG_LEVEL},
        "django.db.backends": {"level": "INFO"},
    },
}

AUTHENTICATION_BACKENDS = ["portal.roles.RoleBackend"]
