"""Settings for the reliability portal, read from the environment (see .env.example)."""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

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
    "axes",
    "csp",
    "portal.compliance",
    "portal.privacy",
    "portal.profile",
    "portal.reminders",
    "portal.reports",
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
    "portal.profile.middleware.ProfileTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signed-in GETs answered from the stored response at the same data version (PAGE_CACHE_*).
    "portal.pagecache.PageCacheMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
            # {% url %} with remembered paths (portal.links) and {% jinja %} (a Jinja2
            # template inside this one) in every template.
            "builtins": ["portal.templatetags.remembered_urls", "portal.templatetags.jinja"],
        },
    },
    {
        # The heaviest parts of pages, list results and record panels (portal/jinja.py),
        # in jinja/ with the same layout as templates/.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "portal.jinja.environment",
            # The Django template libraries whose filters Jinja2 templates get; a later
            # one wins a name two share.
            "libraries": [
                "formats",
                "lists",
                "catalog",
                "slo_format",
                "incidents",
                "people",
                "portal_markdown",
                "tz",
                "readiness",
                "changes",
                "compliance",
            ],
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.roles.role_context",
            ],
        },
    },
]

# Widgets and form layouts through Jinja2 where Django ships them (portal/renderers.py).
FORM_RENDERER = "portal.renderers.FormRenderer"

#: A PostgreSQL connection's options when it prepares the statements it repeats (below).
PREPARED_STATEMENTS = {"server_side_binding": True, "prepare_threshold": 5}
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
    # Django reads the options of every model choice field (list filters, forms) through
    # QuerySet.iterator(), which on PostgreSQL is a server-side cursor: DECLARE, FETCH and
    # CLOSE, three round trips for a handful of rows. Nothing here streams a large result
    # with iterator(); whatever does later must fetch in keyset batches instead.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Parameters bound by the server rather than spliced into the text let psycopg prepare a
    # statement that a connection has run five times: PostgreSQL then skips parsing and
    # planning it. Pages run the same dozen statements on every view: their database time
    # falls by a third to a half (bench/README.md). A pooler in transaction mode older
    # than PgBouncer 1.21 cannot keep prepared statements: set
    # DATABASE_PREPARED_STATEMENTS=false there. (Django turns psycopg's preparing off
    # unless it is given a threshold.)
    DATABASES["default"]["OPTIONS"] = (
        PREPARED_STATEMENTS if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else {}
    )
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

# Sessions in the database as Django keeps them, read with one plain statement.
SESSION_ENGINE = "portal.sessions"

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
CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://"),
    # Whole pages (portal.pagecache), in each web process's memory: the version check makes
    # a shared cache unnecessary, and memory is the fastest there is.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": env.int("PAGE_CACHE_ENTRIES", default=500)},
    },
}
# Seconds a page stored for a person may be served again while no data changed (pages also
# change with time alone: "open for 3 h", "overdue"). 0 turns the page cache off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=10)
# Every call of a prepared statement (portal.prepared) also builds its queryset afresh and
# compares: the test suite turns it on, where it catches a build that cannot share its
# statement; it doubles the statements' cost, so it is not an environment variable.
PREPARED_QUERIES_CHECK = False

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
# Where the file backend (django.core.mail.backends.filebased.EmailBackend, which `make run`
# uses) writes each email, one file per connection: a newcomer reads them there.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

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
    # The current month's toil figures move with the clock (open incidents, automation
    # savings); the task also fills in months of the last year that were never computed.
    "refresh-toil-months": {"task": "toil.tasks.toil.refresh_toil_months", "schedule": 600.0},
    # Every quarter of an hour: the digests of the people whose 08:00 has come (zones differ by
    # quarters of an hour), each once a day.
    "plan-digests": {"task": "portal.reminders.tasks.plan_digests", "schedule": 900.0},
    # Hourly: last month's reports, made once the month is over in TIME_ZONE.
    "plan-monthly-reports": {
        "task": "portal.reports.tasks.plan_monthly_reports",
        "schedule": 3600.0,
    },
    # Readiness and maturity: every service's checks nightly (time alone changes some answers),
    # and the scorecards' weekly history on Monday morning.
    "recompute-all-checks": {
        "task": "services.tasks.recompute_all_checks",
        "schedule": crontab(hour=2, minute=30),
    },
    "record-scorecard-trends": {
        "task": "services.tasks.record_scorecard_trends",
        "schedule": crontab(hour=3, minute=0, day_of_week=1),
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
    "incidents.tasks.sweep_status_updates",
    "incidents.tasks.sweep_incident_metrics",
    "toil.tasks.toil.recompute_dirty_toil_months",
    # SLOs marked dirty whose recompute was not rung (the broker was down) or not done.
    "services.tasks.recompute_dirty_slos",
    # SLOs whose newest data grew older than SLI_STALE_AFTER_MINUTES, whatever feeds them.
    "services.tasks.mark_stale_slos",
    "portal.reminders.tasks.sweep_digests",
    "portal.reports.tasks.sweep_reports",
    # Services marked dirty whose recompute ring was lost.
    "services.tasks.recompute_dirty_checks",
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
# Incident changes within this many seconds of the first one share one metrics recompute.
INCIDENT_METRICS_RECOMPUTE_DELAY = env.int("INCIDENT_METRICS_RECOMPUTE_DELAY", default=30)

# Toil: the share of a team's capacity that toil may take (SRE practice caps it at half), and
# the working hours per engineer per month a team's capacity counts unless the team sets its own.
TOIL_CAP_PERCENT = env.float("TOIL_CAP_PERCENT", default=50.0)
TOIL_HOURS_PER_ENGINEER = env.int("TOIL_HOURS_PER_ENGINEER", default=140)

# Production readiness: how long an approved readiness review stays valid before the service
# shows "review due" (and a tier-1/2 service in production counts as unreviewed).
READINESS_VALID_DAYS = env.int("READINESS_VALID_DAYS", default=365)

# Change approvals and the deploy gate (toil): how many change approvers a standard change
# needs, and the longest an SRE lead's override of the gate may last.
CHANGE_STANDARD_APPROVALS = env.int("CHANGE_STANDARD_APPROVALS", default=2)
GATE_OVERRIDE_MAX_HOURS = env.int("GATE_OVERRIDE_MAX_HOURS", default=24)

# Where links in emails point (the portal's public address).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Reminders: an item overdue more than this many days also goes to the manager of its team's
# digest, and more than the second to the SRE leads' ("overdue in your teams").
ESCALATE_TO_MANAGER_DAYS = env.int("ESCALATE_TO_MANAGER_DAYS", default=7)
ESCALATE_TO_SRE_LEADS_DAYS = env.int("ESCALATE_TO_SRE_LEADS_DAYS", default=14)

# Chat: where a team's "#channel" links to, the channel's name appended (e.g.
# https://chat.example.com/channels/); without it "#channel" stays plain text. A chat channel
# given as a URL always links.
CHAT_BASE_URL = env.str("CHAT_BASE_URL", default="")

# Where portal.roles finds the teams whose records a user edits (the services app's
# memberships), named here so that portal's infrastructure imports no app.
PORTAL_EDITABLE_TEAM_IDS = "services.selectors.catalog.team_ids_edited_by"

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
        "ReportStatusEnum": "portal.reports.choices.ReportStatus",
        "DigestStatusEnum": "portal.reminders.choices.DigestStatus",
        "ReadinessReviewStatusEnum": "services.choices.ReviewStatus",
        "CriterionStatusEnum": "services.choices.CriterionStatus",
        "VerdictEnum": "services.choices.Verdict",
        "ReadinessStateEnum": "services.choices.ReadinessState",
        "ExemptionStatusEnum": "services.choices.ExemptionStatus",
        "ReviewEntryKindEnum": "services.choices.ReviewEntryKind",
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

# django-axes checks every sign-in (the login page, the admin's) before the role backend.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "portal.roles.RoleBackend"]

# ---- Compliance checks, the portal's own data protection, sign-in protection -------------

# Compliance checks (portal.compliance): how long one check of one service may take before it
# is stopped and recorded as an error, how soon an errored check is tried again, how long a
# check may stay past its due time before its cell shows as stale, and the days a finding has
# to be dealt with, by severity (severity=days,...).
COMPLIANCE_CHECK_TIME_LIMIT_SECONDS = env.int("COMPLIANCE_CHECK_TIME_LIMIT_SECONDS", default=30)
COMPLIANCE_ERROR_RETRY_MINUTES = env.int("COMPLIANCE_ERROR_RETRY_MINUTES", default=60)
COMPLIANCE_STALE_AFTER_MINUTES = env.int("COMPLIANCE_STALE_AFTER_MINUTES", default=60)
COMPLIANCE_FINDING_DUE_DAYS = env.dict(
    "COMPLIANCE_FINDING_DUE_DAYS",
    cast={"value": int},
    default={"critical": 7, "high": 14, "medium": 30, "low": 90},
)
CELERY_BEAT_SCHEDULE["run-compliance-checks"] = {
    "task": "portal.compliance.tasks.run_due_compliance_checks",
    "schedule": 60.0,
}
PORTAL_SWEEPS.append("portal.compliance.tasks.sweep_compliance")

# The API schema names the compliance choice sets after their models (and keeps the name the
# incidents' severity had before a second "severity" came along).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "SeverityEnum": "incidents.choices.Severity",
        "ComplianceCheckKindEnum": "portal.compliance.choices.CheckKind",
        "ComplianceCheckMethodEnum": "portal.compliance.choices.CheckMethod",
        "ComplianceFrequencyEnum": "portal.compliance.choices.Frequency",
        "ComplianceAppliesToEnum": "portal.compliance.choices.AppliesTo",
        "ComplianceSeverityEnum": "portal.compliance.choices.Severity",
        "ComplianceComparisonEnum": "portal.compliance.choices.Comparison",
        "ComplianceOutcomeEnum": "portal.compliance.choices.Outcome",
        "ComplianceFindingStatusEnum": "portal.compliance.choices.FindingStatus",
    }
)

# The portal's own retention (portal.privacy): sign-in records and the log of sent emails
# older than this many days are deleted every night.
PORTAL_LOG_RETENTION_DAYS = env.int("PORTAL_LOG_RETENTION_DAYS", default=90)
CELERY_BEAT_SCHEDULE["purge-portal-logs"] = {
    "task": "portal.privacy.tasks.purge_portal_logs",
    "schedule": crontab(hour=3, minute=17),
}

# Sign-in protection (django-axes): SIGNIN_FAILURE_LIMIT failed sign-ins of one username from
# one address, each within SIGNIN_LOCKOUT_MINUTES of the one before, lock that pair out until
# SIGNIN_LOCKOUT_MINUTES have passed since its last try. Counted on the sign-in page and the
# admin's; whether the username exists makes no difference.
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGNIN_LOCKOUT_MINUTES", default=5))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "portal.signin.lockout_response"
# The client's address as the API's rate limits read it (behind API_NUM_PROXIES proxies, the
# one they append to X-Forwarded-For).
AXES_CLIENT_IP_CALLABLE = "portal.signin.client_ip_address"
# django-axes logs every sign-in at INFO; its warnings (failures, lockouts) are what matter.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# Content-Security-Policy (django-csp): the portal's own scripts, styles, images and fonts
# only, no inline script or style (htmx, Chart.js and Swagger UI are served from here too);
# no framing, no plugins, forms post to the portal only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Style attributes only with these exact values, which third-party pages write:
        # django-simple-history's history page ("border-top: 0") and the browsable API's
        # buttons ("float: right; margin-right: 10px"). Nothing else inline.
        "style-src-attr": [
            "'unsafe-hashes'",
            "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
            "'sha256-OfgyIBrd+/vP79JdFMYP+re4T+fIenvkrHPD2HZ8/cs='",
        ],
        # Swagger UI's stylesheet draws its icons as data: URIs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
