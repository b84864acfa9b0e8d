"""One settings file, driven by environment variables with safe defaults.

The embedded default (no variables set) is DEBUG with SQLite, eager Celery tasks, emails to the
console and a file outbox, and media on disk under ./var. Production sets DEBUG=0 and at least
SECRET_KEY, ALLOWED_HOSTS, SITE_URL, DATABASE_URL and REDIS_URL.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-local-development-key-only"  # noqa: S105 - DEBUG only

# Encrypts the spaces' Open Badges signing keys at rest (a key-encryption key is derived from it).
# Defaults to a derivation of SECRET_KEY; set it explicitly in production so that rotating
# SECRET_KEY does not make every stored signing key unreadable.
SIGNING_KEY_SECRET = os.environ.get("SIGNING_KEY_SECRET", "")

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.netloc:
    raise ImproperlyConfigured(f"SITE_URL must be an absolute http(s) URL, not {SITE_URL!r}")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", _site.hostname or ""]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mptt",
    "django_htmx",
    "template_partials",
    "ninja",
    "csp",
    # OAuth 2.0 for the Open Badges 3.0 API (obapi): clients, grants, tokens.
    "oauth2_provider",
    "badgeplatform",
    "orgs",
    "users",
    "issuers",
    "badges",
    "reporting",
    "branding",
    "api",
    "webhooks",
    # Multi-factor sign-in (docs/mfa.md): allauth's account app carries the login stages that
    # allauth.mfa plugs into; the sign-in page itself stays users.views.login_view.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on: allauth's socialaccount runs OpenID Connect and SAML 2.0 (docs/sso.md);
    # the providers are the spaces' own, read per request by sso.adapter.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "sso",
    "obapi",
]

MIDDLEWARE = [
    # A body above MAX_REQUEST_BODY → 413 before anything reads it (badgeplatform/bodylimit.py).
    "badgeplatform.bodylimit.RequestBodyLimitMiddleware",
    # /healthz answers the probes (plain HTTP, any Host) before the HTTPS redirect and the host
    # check below would turn them away (badgeplatform/health.py).
    "badgeplatform.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # allauth's request context (its login stages and MFA views read it).
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After it, so it answers first: pages with identity providers' buttons let forms reach them.
    "sso.csp.ProviderFormAction",
    # request.htmx, false for a history restore; Vary on the htmx headers when consulted.
    "badgeplatform.htmx.HtmxMiddleware",
    "badgeplatform.audit.AuditContextMiddleware",
    # Database connection errors in a view → 503 with a message (a restart is not a bug).
    "badgeplatform.dbdown.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "badgeplatform.urls"
WSGI_APPLICATION = "badgeplatform.wsgi.application"

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
                "badgeplatform.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# PostgreSQL: a reused connection is health-checked (SELECT 1) only after this many idle
# seconds, not at every request (badgeplatform/pg/base.py).
DB_HEALTH_CHECK_IDLE_SECONDS = env_int("DB_HEALTH_CHECK_IDLE_SECONDS", 10)
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    DATABASES["default"]["ENGINE"] = "badgeplatform.pg"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Concurrent readers with one writer (live server tests, the dev server and a worker).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The reporting indexes INCLUDE extra columns (index-only scans on PostgreSQL); SQLite, the
# embedded default, builds them without those columns, which is fine there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = ["users.backends.EmailOrUsernameBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- django-allauth (docs/mfa.md). The site's
# own views sign people in (users.signin.sign_in) through allauth's login stages; allauth's own
# sign-up, email and password pages are not mounted (users.mfa_urls lists what is).
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
MFA_ADAPTER = "users.adapters.MFAAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # users.services verifies addresses (our own links)
ACCOUNT_UNIQUE_EMAIL = True
# The site's throttles (users/throttles.py) count sign-in and second-factor attempts; allauth's
# own counters are off so one budget answers with one message (429 + Retry-After).
ACCOUNT_RATE_LIMITS = False
# Managing factors asks for the password (or a factor) again after this many seconds.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("MFA_REAUTHENTICATION_TIMEOUT", 300)
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "Badge Platform")
MFA_TOTP_TOLERANCE = 1  # the previous/next 30 s code is accepted too (clock drift)
# WebAuthn needs a secure origin; http://localhost/127.0.0.1 in development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# The Django admin (/admin/) requires a second factor in this session; on by default when
# DEBUG is off (docs/mfa.md).
ADMIN_REQUIRE_MFA = env_bool("ADMIN_REQUIRE_MFA", not DEBUG)

# ---- Single sign-on (allauth socialaccount; docs/sso.md) -------------------------------------
# Our adapter gives allauth each space's providers and links or makes the account itself, so
# allauth's own signup form, email authentication and stored tokens are never used.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SpaceSocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# The providers' discovery documents and metadata are fetched from public addresses only;
# DEBUG (and the tests, whose providers run on loopback) may use private ones.
SSO_ALLOW_PRIVATE_URLS = env_bool("SSO_ALLOW_PRIVATE_URLS", DEBUG)

# Verification and password links expire after this many seconds (3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Serve static files from the apps/static dirs when collectstatic has not run (dev, tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Request bodies: MAX_REQUEST_BODY caps a whole request (files included; 413 beyond, refused
# before parsing); Django's limits below cap the non-file fields and the in-memory part of an
# upload (bigger files spool to a temporary file, which a CSV import reads as a stream).
# Per-field limits (images 5 MB, CSV 20 MB: 100,000 recipients) are the forms'; the default
# cap sits just above the CSV's. Keep the reverse proxy's client_max_body_size at or below it.
MAX_REQUEST_BODY = env_int("MAX_REQUEST_BODY", 24 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
if DATA_UPLOAD_MAX_MEMORY_SIZE > MAX_REQUEST_BODY:
    raise ImproperlyConfigured("DATA_UPLOAD_MAX_MEMORY_SIZE must not exceed MAX_REQUEST_BODY")

# --- The public verifier (/verify/, badges/openbadges/verify.py) ---------------------------
# A pasted or uploaded credential above this is refused with 413 (baked images are small).
VERIFY_MAX_BYTES = env_int("VERIFY_MAX_BYTES", 2 * 1024 * 1024)
# Requests per client address per minute on /verify/ (each may canonicalise and fetch).
VERIFY_RATE_LIMIT = env_int("VERIFY_RATE_LIMIT", 20)
# Claim and application submissions per client address per minute (/c/…, /apply/…).
CLAIM_RATE_LIMIT = 20
# Fetch keys, DID documents, status lists and hosted assertions from other sites (https only,
# public addresses only, see badges/openbadges/fetching.py). Our own URLs never leave the process.
VERIFY_FETCH_FOREIGN = env_bool("VERIFY_FETCH_FOREIGN", True)
# The official OB 3.0 AchievementCredential JSON Schema (1EdTech). Not shipped in the repository
# (see docs/openbadges.md): a deployment installs it and points here; by default the copy in
# shared/conformance beside the checkout is read when present. Without it the schema check warns.
_default_schema = (
    BASE_DIR.parent / "shared/conformance/ob3/schemas/ob_v3p0_achievementcredential_schema.json"
)
OB3_SCHEMA_FILE = os.environ.get(
    "OB3_SCHEMA_FILE", str(_default_schema) if _default_schema.is_file() else ""
)

# --- Cache (rate limits, throttles). Redis when configured: shared by every web process, so
# throttles hold across them (badgeplatform/ratelimit.py). Without Redis, the embedded default
# serves from one process (runserver), where local memory is exact; several processes need
# REDIS_URL (check --deploy warns).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Processes sharing one Redis keep apart by prefix (parallel test workers get one each).
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", os.environ.get("PYTEST_XDIST_WORKER", ""))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery. With no broker configured, tasks run eagerly in the calling process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Publishing must fail fast when Redis is down: the outbox row is already committed and the
# periodic drain sends it later, so the web request should not hang on retries.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Credential signing has a queue of its own, so it never waits behind email chunks nor they
# behind it: docker-compose's `signer` (one process, low CPU priority) consumes it; `worker`
# consumes the default queue. Nothing depends on it having run: a credential not signed yet is
# signed on first request, with the same bytes (badges.openbadges.publish._sign).
CELERY_TASK_ROUTES = {"badges.openbadges.tasks.sign_credentials": {"queue": "signing"}}
CELERY_BEAT_SCHEDULE = {
    "drain-email-outbox": {"task": "badgeplatform.tasks.drain_outbox", "schedule": 60.0},
    "resume-issue-batches": {"task": "badges.tasks.resume_issue_batches", "schedule": 120.0},
    "purge-idempotency-records": {"task": "api.tasks.purge_idempotency", "schedule": 3600.0},
    "plan-trials": {"task": "branding.tasks.trials_tick", "schedule": 3600.0},
    # Webhook retries fall due from 5 s after a failure (webhooks.delivery.BACKOFF).
    "deliver-webhooks": {"task": "webhooks.tasks.drain_webhooks", "schedule": 5.0},
    "webhook-award-expiry": {"task": "webhooks.tasks.emit_expired", "schedule": 300.0},
    "purge-webhook-messages": {"task": "webhooks.tasks.purge_webhook_messages", "schedule": 3600.0},
}
CELERY_TIMEZONE = TIME_ZONE
# Imported badges (the Open Badges 3.0 API's upserts): their status re-read every 6 hours.
CELERY_BEAT_SCHEDULE["recheck-imported-badges"] = {
    "task": "obapi.tasks.recheck_imported_credentials",
    "schedule": 6 * 3600.0,
}
# Expiry reminders and "expired" emails (badges.expiry), each sent once however often this runs.
CELERY_BEAT_SCHEDULE["award-expiry-emails"] = {
    "task": "badges.tasks.send_expiry_emails",
    "schedule": 3600.0,
}
# With no broker, `runserver` runs the beat's jobs in a thread (badgeplatform.runner).
EMBEDDED_RUNNER = env_bool("EMBEDDED_RUNNER", True)

# --- Email outbox (badgeplatform.mail). A claim ("sending") older than the first belongs to a
# worker that died mid-send and is released by the drain; pending rows younger than the second
# are left to the task queued at commit. The fault drills (drills/) shorten both.
OUTBOX_STALE_CLAIM_SECONDS = env_int("OUTBOX_STALE_CLAIM_SECONDS", 600)
OUTBOX_DRAIN_GRACE_SECONDS = env_int("OUTBOX_DRAIN_GRACE_SECONDS", 30)
# Bulk emails (issuing) go out in chunks: one task, one claim, one SMTP connection per chunk of
# OUTBOX_CHUNK; each sent row is marked at once (OUTBOX_MARK_EVERY > 1 batches the marks: the
# most a worker killed mid-chunk can send twice; badgeplatform/outbox.py).
OUTBOX_CHUNK = env_int("OUTBOX_CHUNK", 100)
OUTBOX_MARK_EVERY = env_int("OUTBOX_MARK_EVERY", 1)

# --- Email. Default: console + a file outbox under var/outbox (DEBUG), SMTP when EMAIL_HOST set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "badgeplatform.mail.ConsoleAndFileBackend")
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", VAR_DIR / "outbox"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Badge Platform <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security. Production (DEBUG off) gets HTTPS-only cookies and HSTS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): only our own scripts and styles, no
# inline script or event handler anywhere (the templates have none; JS lives in static/js), no
# plugins, no <base> hijack, never framed. img-src allows data: for the badge designer's live
# preview. Views that frame or are framed widen this with csp_update (the email preview), and
# the API docs page gets its own policy (api/http.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy (docker-compose, a load balancer) that sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Proxies whose X-Forwarded-For is believed: addresses or networks ("10.0.0.7,172.18.0.0/16").
# The client address (throttles, audit log) is REMOTE_ADDR, or behind these the right-most
# X-Forwarded-For hop that is not one of them.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network"
        ) from _exc

# Throttles: attempts per window (seconds) per key, counted in the shared cache; beyond, 429
# and no email. The table with the keys is in docs/security.md.
# Sign-in (the site's and /admin/login/): per account, and per client address.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_IP_LIMIT = env_int("LOGIN_FAILURE_IP_LIMIT", 20)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
# Second-factor codes at sign-in, per account (same window; the client's budget is shared).
MFA_FAILURE_LIMIT = env_int("MFA_FAILURE_LIMIT", 5)
# Registration: per address registered, and per client address.
REGISTRATION_EMAIL_LIMIT = env_int("REGISTRATION_EMAIL_LIMIT", 3)
REGISTRATION_IP_LIMIT = env_int("REGISTRATION_IP_LIMIT", 10)
REGISTRATION_WINDOW = env_int("REGISTRATION_WINDOW", 60 * 60)
# "Resend verification" and password reset: per address, and per client address.
RESEND_VERIFICATION_LIMIT = env_int("RESEND_VERIFICATION_LIMIT", 3)
RESEND_VERIFICATION_IP_LIMIT = env_int("RESEND_VERIFICATION_IP_LIMIT", 15)
RESEND_VERIFICATION_WINDOW = env_int("RESEND_VERIFICATION_WINDOW", 60 * 60)
PASSWORD_RESET_LIMIT = env_int("PASSWORD_RESET_LIMIT", 3)
PASSWORD_RESET_IP_LIMIT = env_int("PASSWORD_RESET_IP_LIMIT", 15)
PASSWORD_RESET_WINDOW = env_int("PASSWORD_RESET_WINDOW", 60 * 60)

# --- Public API (api/). Calls per key per window (429 + Retry-After beyond), the largest
# body accepted (413 beyond; 1,000 events of the longest fields fit), and how long a response
# kept for an Idempotency-Key replay is remembered.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 120)
API_RATE_WINDOW = env_int("API_RATE_WINDOW", 60)
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 4 * 1024 * 1024)
API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24)
if API_MAX_BODY_BYTES > DATA_UPLOAD_MAX_MEMORY_SIZE:
    raise ImproperlyConfigured("API_MAX_BODY_BYTES must not exceed DATA_UPLOAD_MAX_MEMORY_SIZE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- The Open Badges 3.0 API (obapi; docs/ob3-api.md): OAuth 2.0 by django-oauth-toolkit.
# Authorization code with PKCE (S256 only), rotating refresh tokens, tokens stored hashed
# (RFC 9700), no implicit or password grant, no token in a query string.
# DOT's client model, named: obapi's migrations refer to it through this (swappable) setting.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# The service's terms and privacy policy, named in the discovery document (required fields).
TERMS_OF_SERVICE_URL = os.environ.get("TERMS_OF_SERVICE_URL", "") or f"{SITE_URL}/"
PRIVACY_POLICY_URL = os.environ.get("PRIVACY_POLICY_URL", "") or f"{SITE_URL}/"
OB3_SCOPE_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
OAUTH2_PROVIDER = {
    "SCOPES": {
        OB3_SCOPE_PREFIX + "credential.readonly": "Read your badges",
        OB3_SCOPE_PREFIX + "credential.upsert": "Add badges to your backpack",
        OB3_SCOPE_PREFIX + "profile.readonly": "Read your profile",
        OB3_SCOPE_PREFIX + "profile.update": "Update your profile",
        "offline_access": "Keep access while you are away",
    },
    "DEFAULT_SCOPES": [OB3_SCOPE_PREFIX + "credential.readonly"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 180 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # RFC 9207: the authorization response names us (`iss`), against mix-up attacks.
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    # The issuer our RFC 8414 metadata publishes (obapi.discovery), named in that `iss`.
    "OIDC_ISS_ENDPOINT": SITE_URL,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if not DEBUG else ["https", "http"],
    # Scopes are bounded by those the client registered (obapi.oauth.Validator).
    "OAUTH2_VALIDATOR_CLASS": "obapi.oauth.Validator",
}
