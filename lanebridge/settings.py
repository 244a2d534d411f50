"""Lanebridge settings, read from the environment with working defaults.

Embedded default: SQLite (WAL) and in-process job execution.
Scaled: DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... select
PostgreSQL and separate Celery workers; nothing else changes.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LANEBRIDGE_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
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
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "engine",
    "processes",
    "integrations",
    "approvals",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lanebridge.middleware.RejectNulCharacters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "approvals.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lanebridge.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
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
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "approvals:inbox"
LOGOUT_REDIRECT_URL = "login"

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
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "lanebridge@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "processes.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lanebridge API",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the installed package: these machines have no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "InstanceStateEnum": "engine.models.ProcessInstance.STATES",
        "TaskStateEnum": "engine.models.HumanTask.STATES",
    },
}

# Jobs: without a broker, Celery runs tasks in-process right after commit.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "run-due-work": {"task": "engine.tasks.run_due_work", "schedule": 2.0},
    "send-task-notifications": {"task": "approvals.tasks.send_task_notifications", "schedule": 60.0},
}

# Secret shared with systems that post to /hooks/messages/; the webhook answers 404 while it is empty.
LANEBRIDGE_WEBHOOK_SECRET = os.environ.get("LANEBRIDGE_WEBHOOK_SECRET", "")

LANEBRIDGE = {
    "MAX_BPMN_BYTES": 5 * 1024 * 1024,
    "SCRIPT_TIMEOUT_SECONDS": float(os.environ.get("LANEBRIDGE_SCRIPT_TIMEOUT", "2")),
    "DEFAULT_RETRIES": 3,
    "RETRY_BACKOFF_SECONDS": float(os.environ.get("LANEBRIDGE_RETRY_BACKOFF", "2")),
    "JOB_LEASE_SECONDS": int(os.environ.get("LANEBRIDGE_JOB_LEASE", "300")),
    # Extra connector modules to import, and REST connector JSON files to load, at start-up.
    "CONNECTOR_MODULES": [m for m in os.environ.get("LANEBRIDGE_CONNECTOR_MODULES", "").split(",") if m],
    "REST_CONNECTORS": [p for p in os.environ.get("LANEBRIDGE_REST_CONNECTORS", "").split(",") if p],
}

# The local ERP and CRM (Tryton); a real deployment points these elsewhere.
TRYTON_PORT = int(os.environ.get("TRYTON_PORT", "8001"))
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
