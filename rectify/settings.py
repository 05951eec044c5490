"""Django settings for Rectify. Everything a deployment changes comes from the environment
(see docs/configuration in README.md); defaults give the embedded SQLite installation."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from rectify.core.env import ConfigError, database_from_url, env_bool, env_int, env_list, env_str
from rectify.core.headers import static_headers

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("RECTIFY_DATA_DIR") or str(Path.cwd() / "data")).resolve()
# The database, evidence files, uploads and keys are the owner's alone (等保 check 17): files this
# process creates are 0600 and directories 0700, whatever the shell's umask was.
os.umask(0o077)

DEBUG = env_bool("RECTIFY_DEBUG", False)


def _secret_key() -> str:
    key = env_str("RECTIFY_SECRET_KEY")
    if key:
        return key
    # Embedded installs keep a generated key in the data directory so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    try:
        if key_file.exists():
            return key_file.read_text().strip()
        DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, even briefly
        with os.fdopen(fd, "w") as out:
            out.write(key)
        return key
    except OSError as exc:
        raise ConfigError(f"cannot keep a secret key in {DATA_DIR}: {exc}; set RECTIFY_SECRET_KEY") from exc


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("RECTIFY_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("RECTIFY_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own vendored static files, not a CDN
    "rectify.core",
    "rectify.evidence",
    "rectify.orgs",
    "rectify.ledger",
    "rectify.dispatch",
    "rectify.supervision",
    "rectify.closeout",
    "rectify.documents",
    "rectify.indicators",
    "rectify.planparse",
    "rectify.accountability",
    "rectify.assessment",
    "rectify.disclosure",
    "rectify.dashboard",
    "rectify.api",
    "django_tasks",
    "django_tasks_db",
    "rectify.jobs",
    "rectify.reports",
    "rectify.reserve",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rectify.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before the timeout: an ended session's form comes back with its fields and a password prompt.
    "rectify.orgs.reauth.KeepTypingMiddleware",
    "rectify.orgs.middleware.SessionTimeoutMiddleware",
    "rectify.orgs.middleware.SecondFactorMiddleware",
    "rectify.orgs.middleware.PasswordChangeRequiredMiddleware",
]

ROOT_URLCONF = "rectify.urls"
WSGI_APPLICATION = "rectify.wsgi.application"

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
                "rectify.core.context_processors.product",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "") or "", sqlite_default=DATA_DIR / "rectify.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache every server process shares, since rate limits (logins, public objections) must hold
# across processes: the database by default (nothing to install), Redis when configured.
_REDIS_URL = env_str("RECTIFY_REDIS_URL", "") or ""
CACHES: dict[str, dict[str, object]] = {
    "default": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_URL}
                if _REDIS_URL else
                {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "rectify_cache"}),
    # The public portal's pages (rectify/disclosure/cache.py): keyed by the audit chain's head, so a
    # per-process memory cache needs no cross-process invalidation; never the database (a GET writes nothing).
    "portal": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_URL,
                "KEY_PREFIX": "portal"} if _REDIS_URL else
               {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rectify-portal",
                "OPTIONS": {"MAX_ENTRIES": 5000}}),
    # The battle map's figures per user (rectify/dashboard/selectors.py), keyed the same way.
    "board": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_URL,
               "KEY_PREFIX": "board"} if _REDIS_URL else
              {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rectify-board",
               "OPTIONS": {"MAX_ENTRIES": 500}}),
}

AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = ["rectify.orgs.auth.LockoutAwareBackend"]
LOGIN_URL = "orgs:login"
LOGIN_REDIRECT_URL = "/"  # the home of each role (rectify/urls.py)
LOGOUT_REDIRECT_URL = "orgs:login"

# 等保 2.0 level 3: complexity, not the username, not a common password; only salted hashes.
PASSWORD_MIN_LENGTH = env_int("RECTIFY_PASSWORD_MIN_LENGTH", 12, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH}},
    {"NAME": "rectify.orgs.passwords.CharacterClassValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "rectify.orgs.passwords.MaximumLengthValidator"},
    {"NAME": "rectify.orgs.passwords.HistoryValidator"},
    {"NAME": "rectify.orgs.passwords.GuessablePasswordValidator"},
]
# Names an attacker would try besides the built-in list (the city, the office…), comma-separated.
PASSWORD_BANNED_WORDS = env_list("RECTIFY_PASSWORD_BANNED_WORDS", ["yongzhou", "lingling", "xiaoxiang"])
PASSWORD_EXPIRY_DAYS = env_int("RECTIFY_PASSWORD_EXPIRY_DAYS", 90, minimum=0)
PASSWORD_HISTORY = 5
# 三员分立: accounts, units, leader areas and tokens are the system administrator's (系统管理员). The
# office administrator may do it too while this is on (a small office without a system administrator);
# turn it off for strict separation once a system administrator exists (docs: README 账号与单位管理).
OFFICE_ADMIN_MANAGES_ACCOUNTS = env_bool("RECTIFY_OFFICE_ADMIN_MANAGES_ACCOUNTS", True)
LOGIN_MAX_FAILURES = env_int("RECTIFY_LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("RECTIFY_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Failed logins per client address per window (successes never count); the per-account lockout is
# LOGIN_MAX_FAILURES. Counted in the shared cache (CACHES), so every server process sees one count.
LOGIN_RATE_LIMIT = env_int("RECTIFY_LOGIN_RATE_LIMIT", 30, minimum=1)
LOGIN_RATE_WINDOW_SECONDS = env_int("RECTIFY_LOGIN_RATE_WINDOW_SECONDS", 600, minimum=60)
# Behind one reverse proxy: the client address is the last X-Forwarded-For entry (the one the proxy
# added); off, only the socket's address counts (a client could write the header itself).
TRUST_X_FORWARDED_FOR = env_bool("RECTIFY_TRUST_X_FORWARDED_FOR", False)
# Per-user hourly limits on expensive operations (core.ratelimit.throttled), in the shared cache.
THROTTLES_PER_HOUR = {
    "upload": env_int("RECTIFY_THROTTLE_UPLOADS", 300, minimum=1),
    "export": env_int("RECTIFY_THROTTLE_EXPORTS", 60, minimum=1),
    "document": env_int("RECTIFY_THROTTLE_DOCUMENTS", 120, minimum=1),
    "plan": env_int("RECTIFY_THROTTLE_PLAN_PARSES", 30, minimum=1),
    "import": env_int("RECTIFY_THROTTLE_IMPORTS", 30, minimum=1),
}
# Second factor (TOTP, rectify/orgs/twofactor.py; SECURITY.md check 5). The roles that must enrol, by
# their string values ("none": no role); demo accounts are exempt, as from password expiry.
TOTP_REQUIRED_ROLES = [r for r in env_list("RECTIFY_TOTP_REQUIRED_ROLES",
                                           ["office_admin", "system_admin", "security_admin"]) if r != "none"]
# Roles that reset others' second factor and end their sessions over every account (the office
# administrator does so over the accounts of its own tree).
SECURITY_MANAGER_ROLES = env_list("RECTIFY_SECURITY_MANAGER_ROLES", ["security_admin"])
TOTP_ISSUER = env_str("RECTIFY_TOTP_ISSUER", "督察整改调度平台") or "督察整改调度平台"
# Wrong second-factor codes per pending login (and per address, with the login limit) per window.
TOTP_MAX_ATTEMPTS = env_int("RECTIFY_TOTP_MAX_ATTEMPTS", 5, minimum=1)
# Concurrent sessions per user (0: no cap); at a login beyond it the oldest session is ended.
MAX_SESSIONS_PER_USER = env_int("RECTIFY_MAX_SESSIONS_PER_USER", 3, minimum=0)
# Default lifetime of a new API token (the issuer may choose a shorter one, up to API_TOKEN_MAX_DAYS).
API_TOKEN_DAYS = env_int("RECTIFY_API_TOKEN_DAYS", 180, minimum=1)
API_TOKEN_MAX_DAYS = env_int("RECTIFY_API_TOKEN_MAX_DAYS", 366, minimum=1)
# Failed API token lookups per address per window (the login window), like failed logins.
API_TOKEN_FAILURE_LIMIT = env_int("RECTIFY_API_TOKEN_FAILURE_LIMIT", 30, minimum=1)
SESSION_IDLE_TIMEOUT_MINUTES = env_int("RECTIFY_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_ABSOLUTE_HOURS = env_int("RECTIFY_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("RECTIFY_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The browsers' preload list is for public domains; an intranet host name cannot be submitted
    # to it, so the check is silenced unless a deployment opts in.
    SECURE_HSTS_PRELOAD = env_bool("RECTIFY_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("RECTIFY_SSL_REDIRECT", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]  # one language: framework strings come from Django's zh-Hans catalog
# Wording overrides first: a deployment's own catalogue (e.g. its term for 整改办) wins over the shipped one.
LOCALE_PATHS = [*([Path(p)] if (p := env_str("RECTIFY_LOCALE_DIR")) else []), BASE_DIR / "locale"]
TIME_ZONE = env_str("RECTIFY_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # no collectstatic step needed for the embedded install
MEDIA_ROOT = DATA_DIR / "files"  # outside any web root; served only through authorised views
UPLOAD_DIR = DATA_DIR / "uploads"
# Background work (rectify/jobs): django-tasks' database backend (nothing more to install; any number of
# `rectify worker` processes on PostgreSQL). Results and progress files live here.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
JOBS_DIR = DATA_DIR / "jobs"
JOB_STALE_SECONDS = env_int("RECTIFY_JOB_STALE_SECONDS", 60, minimum=2)  # a running job silent this long died
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("RECTIFY_IMPORT_MAX_MB", 50, minimum=1) * 1024 * 1024

# Dispatch (一月一调度): the round opens on the Nth official work day of the month, reports are due
# M work days after it opens; reviewers approve before a report goes up unless switched off.
DISPATCH_OPEN_WORKDAY = env_int("RECTIFY_DISPATCH_OPEN_WORKDAY", 1, minimum=1)
DISPATCH_DUE_WORKDAYS = env_int("RECTIFY_DISPATCH_DUE_WORKDAYS", 5, minimum=1)
DISPATCH_REQUIRE_UNIT_REVIEW = env_bool("RECTIFY_DISPATCH_REQUIRE_UNIT_REVIEW", True)
WARN_DEADLINE_WORKDAYS = env_int("RECTIFY_WARN_DEADLINE_WORKDAYS", 15, minimum=1)
REMIND_DUE_WORKDAYS = env_int("RECTIFY_REMIND_DUE_WORKDAYS", 3, minimum=1)
TICK_INTERVAL_MINUTES = env_int("RECTIFY_TICK_INTERVAL_MINUTES", 10, minimum=1)
EVIDENCE_MAX_BYTES = env_int("RECTIFY_EVIDENCE_MAX_MB", 20, minimum=1) * 1024 * 1024
EVIDENCE_MAX_REPORT_FILES = env_int("RECTIFY_EVIDENCE_MAX_FILES", 30, minimum=1)  # per progress report
# No request body is read past this (HTTP 413 from its Content-Length, before a byte is read): the
# largest legitimate upload plus room for the form around it.
MAX_REQUEST_BYTES = max(IMPORT_MAX_BYTES, EVIDENCE_MAX_BYTES) + 1024 * 1024
OFFICE_DOC_NAME = env_str("RECTIFY_OFFICE_DOC_NAME", "") or ""  # 版头 name; defaults to the office unit's name
OBJECTION_PHONE = env_str("RECTIFY_OBJECTION_PHONE", "") or ""  # printed on close-out notices when set
DOC_NUMBER_PREFIX = env_str("RECTIFY_DOC_NUMBER_PREFIX", "整改办") or "整改办"  # 机关代字 of 发文字号 (整改办督〔2026〕1号)
EMAIL_HOST = env_str("RECTIFY_SMTP_HOST", "") or ""
EMAIL_PORT = env_int("RECTIFY_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("RECTIFY_SMTP_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("RECTIFY_SMTP_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("RECTIFY_SMTP_TLS", False)
DEFAULT_FROM_EMAIL = env_str("RECTIFY_MAIL_FROM", "rectify@localhost")
RECTIFY_BASE_URL = env_str("RECTIFY_BASE_URL", "") or ""

LEDGER_PAGE_SIZE = env_int("RECTIFY_LEDGER_PAGE_SIZE", 50, minimum=5)
# Lists on PostgreSQL show the planner's estimate ("约 N 条") instead of counting past this many
# visible rows (0: always count). See rectify/core/paging.py.
LIST_ESTIMATE_ABOVE = env_int("RECTIFY_LIST_ESTIMATE_ABOVE", 100_000, minimum=0)
# A filter choosing one unit or campaign lists every choice up to this many; past it (a province's
# thousands of units) it is a search box and a short select (rectify/core/forms.py, SearchSelect).
UNIT_PICKER_LIST_ALL = env_int("RECTIFY_UNIT_PICKER_LIST_ALL", 300, minimum=1)

# The second record of the audit chain's head (rectify/core/audit.py): a file the application only
# appends to; `rectify verify` fails on a chain that no longer reaches its furthest line.
_head_log = os.environ.get("RECTIFY_AUDIT_HEAD_LOG")
AUDIT_HEAD_LOG = str(DATA_DIR / "audit-heads.log") if _head_log is None else (_head_log.strip() or None)
# `rectify verify` walks a chain of at least VERIFY_PARALLEL_ABOVE events in VERIFY_WORKERS forked
# processes at once (core/audit.py verify_chain). Below it one process will do: forking and the
# children's connections cost about 0.1 s, which parallel walking wins back from about 30,000 events.
VERIFY_WORKERS = env_int("RECTIFY_VERIFY_WORKERS", min(os.cpu_count() or 1, 8), minimum=1)
VERIFY_PARALLEL_ABOVE = env_int("RECTIFY_VERIFY_PARALLEL_ABOVE", 200_000, minimum=0)

# Every line names its request: the id the error page shows the user (核对日志时按编号查找).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "rectify.core.request_id.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("RECTIFY_LOG_LEVEL", "WARNING")},
}
WHITENOISE_ADD_HEADERS_FUNCTION = static_headers
