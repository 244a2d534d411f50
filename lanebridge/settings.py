"""Lanebridge settings, read from the environment with working defaults.

Embedded default: SQLite (WAL) and in-process job execution.
Scaled: DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... select
PostgreSQL and separate Celery workers; nothing else changes.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url

from lanebridge.security import secret_key, throttle_rate

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LANEBRIDGE_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("DEBUG", False)
# SECRET_KEY from the environment (a weak one stops the start unless DEBUG), else this installation's own.
SECRET_KEY = secret_key(VAR_DIR, DEBUG)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
DEMO = env_bool("LANEBRIDGE_DEMO")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "engine",
    # Before processes: its roles grant monitoring's permission, created by this app's migrate.
    "monitoring",
    "processes",
    "integrations",
    "approvals",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (htmx, bpmn-js, styles) are answered here, before sessions and the database are touched.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "lanebridge.security.ContentSecurityPolicy",
    "lanebridge.middleware.RejectNulCharacters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sso.SessionRefresh",
    "approvals.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.audit.AuditRefusals",
    # Last, so it sees the login that tripped the lockout and answers with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lanebridge.urls"

TEMPLATES = [
    {
        "BACKEND": "lanebridge.templating.Templates",
        # Under Django's own name: DRF renders its error pages with engines["django"].
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "lanebridge.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Kept connections are checked before each request or Celery task reuses them (a restarted database).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "lanebridge.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",  # first: a locked account is refused before any password check
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

# Login lockout (django-axes): per account, so one attacker behind an office's address cannot lock
# everyone there out. "username+address" locks an account only from the address that failed.
LOCKOUT_FAILURES = int(os.environ.get("LANEBRIDGE_LOCKOUT_FAILURES", "5"))
LOCKOUT_MINUTES = int(os.environ.get("LANEBRIDGE_LOCKOUT_MINUTES", "15"))
AXES_FAILURE_LIMIT = LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES) if LOCKOUT_MINUTES else None
AXES_LOCKOUT_PARAMETERS = (
    [["username", "ip_address"]] if os.environ.get("LANEBRIDGE_LOCKOUT_BY", "username") == "username+address"
    else ["username"])
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_VERBOSE = False
# axes warns when the address is not part of the lock; leaving it out is the point (see above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# LANEBRIDGE_HTTPS=1: served over HTTPS, usually behind a proxy that says so in X-Forwarded-Proto.
HTTPS = env_bool("LANEBRIDGE_HTTPS")
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("LANEBRIDGE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LANEBRIDGE_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("LANEBRIDGE_HSTS_PRELOAD", True)
# Scripts, styles, fonts and images from this site only (pages have no inline code); data: images for
# bpmn-js and Swagger UI. LANEBRIDGE_CSP replaces it, e.g. to allow an SSO provider's logo.
CONTENT_SECURITY_POLICY = os.environ.get("LANEBRIDGE_CSP", "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'self'",
    "frame-ancestors 'none'",
]))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "approvals:inbox"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on (README "Single sign-on"): each provider is on only when configured, and maps
# its groups to roles through LANEBRIDGE_SSO_GROUP_ROLES ("provider-group:Role;...") at every login.
LANEBRIDGE_SSO_GROUP_ROLES = os.environ.get("LANEBRIDGE_SSO_GROUP_ROLES", "")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
# Logging out of an SSO session also ends the provider's login there (RP-initiated logout), which
# needs the ID token as the hint. The ID token is checked again, silently, after this many seconds.
OIDC_OP_LOGOUT_ENDPOINT = os.environ.get("OIDC_OP_LOGOUT_ENDPOINT", "")
OIDC_STORE_ID_TOKEN = True
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = int(os.environ.get("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", "900"))
# API clients use tokens, never the browser's SSO session, so the silent re-check skips the API.
OIDC_EXEMPT_URLS = [re.compile(r"^/api/"), re.compile(r"^/hooks/"), "/metrics"]
LANEBRIDGE_LDAP = {
    "SERVER_URI": os.environ.get("LDAP_SERVER_URI", ""),
    "START_TLS": env_bool("LDAP_START_TLS"),
    "BIND_DN": os.environ.get("LDAP_BIND_DN", ""),
    "BIND_PASSWORD": os.environ.get("LDAP_BIND_PASSWORD", ""),
    "USER_SEARCH_BASE": os.environ.get("LDAP_USER_SEARCH_BASE", ""),
    "USER_SEARCH_FILTER": os.environ.get("LDAP_USER_SEARCH_FILTER", "(uid=%(user)s)"),
    "USER_DN_TEMPLATE": os.environ.get("LDAP_USER_DN_TEMPLATE", ""),
    "GROUP_SEARCH_BASE": os.environ.get("LDAP_GROUP_SEARCH_BASE", ""),
    "GROUP_SEARCH_FILTER": os.environ.get("LDAP_GROUP_SEARCH_FILTER", ""),
    "GROUP_TYPE": os.environ.get("LDAP_GROUP_TYPE", "groupOfNames"),
}
if LANEBRIDGE_LDAP["SERVER_URI"]:
    AUTHENTICATION_BACKENDS.append("accounts.ldap.LDAPBackend")
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.append("accounts.sso.OIDCBackend")

AUTH_PASSWORD_VALIDATORS = [] if DEMO else [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("LANEBRIDGE_STATIC_ROOT", VAR_DIR / "static"))
# WhiteNoise serves it (empty until `collectstatic`) and warns if it is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# With LANEBRIDGE_STATIC_MANIFEST=1 (the container image, after `collectstatic`), files get hashed names, are
# compressed and cached for a year. Without it they are served straight from the apps' folders, no step needed.
STATIC_MANIFEST = env_bool("LANEBRIDGE_STATIC_MANIFEST")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if STATIC_MANIFEST
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "lanebridge@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.TokenScopes",  # views declare required_scope; see accounts/permissions.py
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "processes.renderers.JSONRenderer",
        "processes.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "processes.api_errors.exception_handler",
    # Over the rate: 429 with Retry-After. Callers with credentials are counted per user, others per address.
    "DEFAULT_THROTTLE_CLASSES": ["processes.throttles.UserThrottle", "processes.throttles.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": throttle_rate("LANEBRIDGE_API_THROTTLE", "1200/min"),
        "anon": throttle_rate("LANEBRIDGE_API_THROTTLE_ANON", "60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lanebridge API",
    "VERSION": "1.0.0",
    # A scoped token reads the schema only with the "read" scope, like any other read.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "accounts.permissions.TokenScopes"],
    # Swagger UI from the installed package: these machines have no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # `check --deploy` judges the deployment, not how complete the API docs are (drf-spectacular warnings).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "ENUM_NAME_OVERRIDES": {
        "InstanceStateEnum": "engine.models.ProcessInstance.STATES",
        "TaskStateEnum": "engine.models.HumanTask.STATES",
    },
}

# Jobs: without a broker, Celery runs tasks in-process right after commit.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# The API's request counts are shared by every web process: in Redis when it is the broker, else in files.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL,
                 "KEY_PREFIX": "lanebridge-throttle"} if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "throttle")},
}
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connection around every task unless told to reuse it: a new PostgreSQL
# connection (about 15 ms here) for each service call. Reused, it is still checked before each task
# (lanebridge/celery.py) and replaced after this many tasks.
CELERY_DB_REUSE_MAX = 500
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "run-due-work": {"task": "engine.tasks.run_due_work", "schedule": 2.0},
    "send-task-notifications": {"task": "approvals.tasks.send_task_notifications", "schedule": 60.0},
    "run-alerts": {"task": "monitoring.tasks.run_alerts", "schedule": 60.0},
    # Does nothing unless LANEBRIDGE_HISTORY_DAYS is set.
    "purge-history": {"task": "engine.tasks.purge_history", "schedule": 24 * 3600.0},
}

# History retention: ended instances older than this many days are archived and deleted once a day
# (0: kept for ever). The archive is one JSON line per instance, in a file per day (strftime pattern; empty: none).
LANEBRIDGE_HISTORY_DAYS = int(os.environ.get("LANEBRIDGE_HISTORY_DAYS", "0") or 0)
LANEBRIDGE_HISTORY_ARCHIVE = os.environ.get("LANEBRIDGE_HISTORY_ARCHIVE",
                                            str(VAR_DIR / "history" / "purged-%Y-%m-%d.jsonl"))

# Secret shared with systems that post to /hooks/messages/; the webhook answers 404 while it is empty.
LANEBRIDGE_WEBHOOK_SECRET = os.environ.get("LANEBRIDGE_WEBHOOK_SECRET", "")

LANEBRIDGE = {
    "MAX_BPMN_BYTES": 5 * 1024 * 1024,
    "SCRIPT_TIMEOUT_SECONDS": float(os.environ.get("LANEBRIDGE_SCRIPT_TIMEOUT", "2")),
    # Scripts run in a pool of worker processes per server process, each with a memory limit.
    "SCRIPT_WORKERS": int(os.environ.get("LANEBRIDGE_SCRIPT_WORKERS", "2")),
    "SCRIPT_MEMORY_MB": int(os.environ.get("LANEBRIDGE_SCRIPT_MEMORY_MB", "256")),
    # Largest variable, and largest set of variables of one instance, as stored (JSON bytes).
    "MAX_VALUE_BYTES": int(os.environ.get("LANEBRIDGE_MAX_VALUE_BYTES", str(1024 * 1024))),
    "MAX_INSTANCE_BYTES": int(os.environ.get("LANEBRIDGE_MAX_INSTANCE_BYTES", str(5 * 1024 * 1024))),
    "DEFAULT_RETRIES": 3,
    "RETRY_BACKOFF_SECONDS": float(os.environ.get("LANEBRIDGE_RETRY_BACKOFF", "2")),
    "JOB_LEASE_SECONDS": int(os.environ.get("LANEBRIDGE_JOB_LEASE", "300")),
    "LOCKOUT_MINUTES": LOCKOUT_MINUTES,
    # Extra connector modules to import, and REST connector JSON files to load, at start-up.
    "CONNECTOR_MODULES": [m for m in os.environ.get("LANEBRIDGE_CONNECTOR_MODULES", "").split(",") if m],
    "REST_CONNECTORS": [p for p in os.environ.get("LANEBRIDGE_REST_CONNECTORS", "").split(",") if p],
    # The ERP/CRM event watcher: its watch files (default: integrations/watchers/*.json) and how often it
    # passes, in seconds (0: never by itself; `manage.py watch_erp` still runs it).
    "WATCHERS": [p for p in os.environ.get("LANEBRIDGE_WATCHERS", "").split(",") if p],
    "WATCH_SECONDS": float(os.environ.get("LANEBRIDGE_WATCH_SECONDS", "10")),
    # Operators may move the ERP along from an instance's page (finish a production, deliver, pay):
    # for the demo and a local ERP only, never against a company's real one.
    "ERP_ADVANCE": env_bool("LANEBRIDGE_ERP_ADVANCE", DEMO),
}
if LANEBRIDGE["WATCH_SECONDS"] > 0:
    CELERY_BEAT_SCHEDULE["watch-erp"] = {"task": "integrations.tasks.watch_erp",
                                         "schedule": LANEBRIDGE["WATCH_SECONDS"]}

# Monitoring. The address pages are served at, for links in emails and alerts (no trailing slash).
LANEBRIDGE_BASE_URL = os.environ.get("LANEBRIDGE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# GET /metrics needs "Authorization: Bearer <this>"; unset, the endpoint answers 404.
LANEBRIDGE_METRICS_TOKEN = os.environ.get("LANEBRIDGE_METRICS_TOKEN", "")
# Alerts: each rule is on by default; a threshold of 0 turns its rule off.
LANEBRIDGE_ALERTS = {
    # Problems of one kind at one element within this many seconds go out as one message with a count.
    "WINDOW_SECONDS": int(os.environ.get("LANEBRIDGE_ALERT_WINDOW", "600")),
    "INCIDENTS": env_bool("LANEBRIDGE_ALERT_INCIDENTS", True),
    "OVERDUE_TASKS": env_bool("LANEBRIDGE_ALERT_OVERDUE", True),
    # An active instance whose row has not changed for this many hours.
    "STUCK_HOURS": float(os.environ.get("LANEBRIDGE_ALERT_STUCK_HOURS", "24")),
    # Share of an element's calls in one window that failed, once it made at least MIN_CALLS.
    "ERROR_RATE": float(os.environ.get("LANEBRIDGE_ALERT_ERROR_RATE", "0.5")),
    "ERROR_RATE_MIN_CALLS": int(os.environ.get("LANEBRIDGE_ALERT_ERROR_RATE_MIN_CALLS", "5")),
    # Who gets the emails besides an overdue task's own role.
    "EMAIL_ROLE": os.environ.get("LANEBRIDGE_ALERT_EMAIL_ROLE", "Operator"),
    # Comma-separated kind:url, kinds dingtalk, wecom, feishu, slack, json. A DingTalk robot's
    # signing secret goes in the URL's fragment: dingtalk:https://...?access_token=x#secret=SEC...
    "WEBHOOKS": os.environ.get("LANEBRIDGE_ALERT_WEBHOOKS", ""),
}

# The local ERP and CRM (Tryton); a real deployment points these elsewhere.
TRYTON_PORT = int(os.environ.get("TRYTON_PORT", "8001"))
TRYTON_HOST = os.environ.get("TRYTON_HOST", "127.0.0.1")
ERP_URL = os.environ.get("ERP_URL", f"http://127.0.0.1:{TRYTON_PORT}")
ERP_DATABASE = os.environ.get("ERP_DATABASE", "erp")
ERP_USER = os.environ.get("ERP_USER", "admin")
ERP_PASSWORD = os.environ.get("ERP_PASSWORD", "admin")
CRM_URL = os.environ.get("CRM_URL", f"http://127.0.0.1:{TRYTON_PORT}")
CRM_DATABASE = os.environ.get("CRM_DATABASE", "crm")
CRM_USER = os.environ.get("CRM_USER", "admin")
CRM_PASSWORD = os.environ.get("CRM_PASSWORD", "admin")
TRYTON_HOME = Path(os.environ.get("TRYTON_HOME", VAR_DIR / "tryton"))
TRYTON_TEMPLATE_DIR = Path(
    os.environ.get("TRYTON_TEMPLATE_DIR", Path.home() / ".cache" / "lanebridge" / "tryton-template")
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
