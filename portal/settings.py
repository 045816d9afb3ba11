"""Settings for Attestportal.

Every deployment difference comes from the environment (see .env.example).
With no environment at all the portal runs on a laptop: SQLite, tasks run
in-process without a broker, e-mail printed to the console.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# --- Core ---
DEBUG = env.bool("DEBUG", default=False)
# The fallback key only serves a laptop; `check --deploy` flags it (security.W009).
SECRET_KEY = env(
    "SECRET_KEY",
    default="django-insecure-local-development-key-do-not-use-in-production",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- The municipality ---
# Shown on every page and in letters.
MUNICIPALITY_NAME = env("MUNICIPALITY_NAME", default="Demo Kommune")
# Absolute address of the portal, for links in e-mails.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# Shown in letters to new hires as whom to contact.
PAYROLL_CONTACT = env(
    "PAYROLL_CONTACT", default="Løn og Personale, tlf. 70 10 20 30, loen@demo.example"
)
# A team mailbox for payroll's notices; without it, every payroll user's address.
PAYROLL_EMAIL = env("PAYROLL_EMAIL", default="")
# The municipality's accessibility statement (tilgængelighedserklæring), linked from every
# page's footer as webtilgængelighedsloven requires. Statements are made and published in
# the Agency for Digital Government's WAS tool (was.digst.dk); the default points there
# until the municipality has published its own.
ACCESSIBILITY_STATEMENT_URL = env(
    "ACCESSIBILITY_STATEMENT_URL", default="https://www.was.digst.dk/"
)
# Logo for letters and the header, a path under static/.
MUNICIPALITY_LOGO = env("MUNICIPALITY_LOGO", default="img/logo.svg")

# --- Deadlines and retention ---
# Deadlines (days). The police give the person 14 days to consent in Digital Post.
CONSENT_DAYS = env.int("CONSENT_DAYS", default=14)
CONSENT_REMINDER_DAYS = [int(d) for d in env.list("CONSENT_REMINDER_DAYS", default=["7", "12"])]
LINE_EXPIRY_DAYS = env.int("LINE_EXPIRY_DAYS", default=19)
START_SOON_DAYS = env.int("START_SOON_DAYS", default=5)
# Retention: the portal is not the archive. Certificate files go this many days after
# they were filed; orders are anonymised this many months after their last event;
# access-log rows are kept this many months.
RETENTION_FILE_DAYS = env.int("RETENTION_FILE_DAYS", default=30)
RETENTION_ORDER_MONTHS = env.int("RETENTION_ORDER_MONTHS", default=12)
RETENTION_ACCESS_LOG_MONTHS = env.int("RETENTION_ACCESS_LOG_MONTHS", default=24)

# --- Returned certificates (the robot) ---
# Returned documents: stored outside the web root, served only through an access-checked view.
DOCUMENT_ROOT = env.str("DOCUMENT_ROOT", default=str(BASE_DIR / "var" / "documents"))
MAX_DOCUMENT_BYTES = env.int("MAX_DOCUMENT_MB", default=20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A folder the robot sweeps for certificates (empty: off); taken files move to "behandlet/".
DROP_FOLDER = env.str("DROP_FOLDER", default="")
# The mailbox of forwarded Digital Post, e.g. imaps://user:password@mail.kommune.dk/INBOX
IMAP_URL = env.str("IMAP_URL", default="")
IMAP_PROCESSED_FOLDER = env.str("IMAP_PROCESSED_FOLDER", default="Behandlet")
IMAP_FAILED_FOLDER = env.str("IMAP_FAILED_FOLDER", default="Fejlet")
IMAP_TIMEOUT = env.int("IMAP_TIMEOUT", default=30)

# --- Filing in the case system (ESDH) ---
# Filing in the case system (ESDH): "archive" (a local folder tree), "sbsys" or "getorganized".
ESDH_BACKEND = env.str("ESDH_BACKEND", default="archive")
ESDH_ARCHIVE_DIR = env.str("ESDH_ARCHIVE_DIR", default=str(BASE_DIR / "var" / "archive"))
SBSYS_URL = env.str("SBSYS_URL", default="")  # e.g. https://sbsys.kommune.dk
SBSIP_URL = env.str("SBSIP_URL", default="")  # the Keycloak behind SBSYS
SBSYS_CLIENT_ID = env.str("SBSYS_CLIENT_ID", default="")
SBSYS_CLIENT_SECRET = env.str("SBSYS_CLIENT_SECRET", default="")
SBSYS_USERNAME = env.str("SBSYS_USERNAME", default="")
SBSYS_PASSWORD = env.str("SBSYS_PASSWORD", default="")
# Which of the person's cases is the personnel case: the case type by name or by id (a
# number), and/or the start of its case number (KLE "81.03.00-G01"); one must be set.
SBSYS_CASE_TYPE = env.str("SBSYS_CASE_TYPE", default="PersonaleSag")
SBSYS_CASE_NUMBER_PREFIX = env.str("SBSYS_CASE_NUMBER_PREFIX", default="")
SBSYS_FOLDER_TITLE = env.str("SBSYS_FOLDER_TITLE", default="08 Straffeattester")
SBSYS_DOCUMENT_ART_ID = env.int("SBSYS_DOCUMENT_ART_ID", default=1)  # 1 "Indgående"; 0: none
SBSYS_TIMEOUT = env.float("SBSYS_TIMEOUT", default=30)
# Netcompany GetOrganized (robot/esdh/getorganized.py): the web application's address, a
# service account (DOMAIN\user) signing in with NTLM ("basic" where GO is set up for it),
# the personnel cases' case type prefix, an optional folder in the case's "Dokumenter"
# library, and whether a filed document is journalised (finalised, locked) at once.
GETORGANIZED_URL = env.str("GETORGANIZED_URL", default="")  # e.g. https://go.kommune.dk
GETORGANIZED_USERNAME = env.str("GETORGANIZED_USERNAME", default="")
GETORGANIZED_PASSWORD = env.str("GETORGANIZED_PASSWORD", default="")
GETORGANIZED_AUTH = env.str("GETORGANIZED_AUTH", default="ntlm")
GETORGANIZED_CASE_TYPE_PREFIX = env.str("GETORGANIZED_CASE_TYPE_PREFIX", default="PER")
GETORGANIZED_FOLDER_PATH = env.str("GETORGANIZED_FOLDER_PATH", default="")
GETORGANIZED_FINALIZE = env.bool("GETORGANIZED_FINALIZE", default=True)
GETORGANIZED_TIMEOUT = env.float("GETORGANIZED_TIMEOUT", default=60)
# Formpipe Acadre (robot/esdh/acadre.py): the PWS endpoint (…/SoapAuth/AcadreServiceV7.asmx),
# a service account (DOMAIN\user, NTLM; "basic" where IIS is set up for it), the Acadre
# user's initials the calls act for (Acadre's SoapHeader), the personnel cases' case type
# and an optional document type code for the filed record.
ACADRE_URL = env.str("ACADRE_URL", default="")
ACADRE_USERNAME = env.str("ACADRE_USERNAME", default="")
ACADRE_PASSWORD = env.str("ACADRE_PASSWORD", default="")
ACADRE_AUTH = env.str("ACADRE_AUTH", default="ntlm")
ACADRE_ACTING_USER = env.str("ACADRE_ACTING_USER", default="")
ACADRE_CASE_TYPE = env.str("ACADRE_CASE_TYPE", default="PERSAG")
ACADRE_DOCUMENT_TYPE = env.str("ACADRE_DOCUMENT_TYPE", default="")
ACADRE_TIMEOUT = env.float("ACADRE_TIMEOUT", default=60)
# A test person whose one personnel case the administrator's connection test looks up
# (nothing is filed); never shown in full.
ESDH_TEST_CPR = env.str("ESDH_TEST_CPR", default="")
# Requests per second to the case system, across every worker and process.
ESDH_RATE_LIMIT = env.float("ESDH_RATE_LIMIT", default=2.0)
# Failed filings are retried with backoff for this long, then handed to a person.
ESDH_RETRY_HORIZON_HOURS = env.int("ESDH_RETRY_HORIZON_HOURS", default=48)

# --- Assessment, provenance and trial mode ---
# Four eyes: an assessment of a not-clean certificate needs a second payroll clerk.
REVIEW_FOUR_EYES = env.bool("REVIEW_FOUR_EYES", default=False)

# Provenance: a certificate is believed only when it provably comes from the police.
# Forwarded messages count only from these senders (addresses, or domains as "@kommune.dk")
# with a DKIM signature that verifies, or with a passing Authentication-Results header
# added by one of these receiving servers (its authserv-id, e.g. "mx.kommune.dk").
MAIL_TRUSTED_SENDERS = env.list("MAIL_TRUSTED_SENDERS", default=[])
MAIL_TRUSTED_AUTHSERV_IDS = env.list("MAIL_TRUSTED_AUTHSERV_IDS", default=[])
# A PEM file of the certificates that may sign the police's PDFs; and whether a valid
# signature is required (only once the police are known to sign their PDFs).
PDF_TRUST_ANCHORS = env.str("PDF_TRUST_ANCHORS", default="")
# Reading a PDF or a received e-mail message runs in a child process with these limits
# (CPU seconds per document, address space of the reader); a document that breaches them
# goes to a person.
PDF_READ_CPU_SECONDS = env.float("PDF_READ_CPU_SECONDS", default=20)
PDF_READ_MEMORY_MB = env.int("PDF_READ_MEMORY_MB", default=512)
# A document still waiting to be read after this long is queued again, and after the
# second period (at least three sweeps) handed to a person.
UNREAD_RETRY_MINUTES = env.int("UNREAD_RETRY_MINUTES", default=5)
UNREAD_GIVE_UP_MINUTES = env.int("UNREAD_GIVE_UP_MINUTES", default=15)
PDF_SIGNATURE_REQUIRED = env.bool("PDF_SIGNATURE_REQUIRED", default=False)
# Trial mode: a kind may be switched to automatic after this many confirmed proposals
# under the active rules with no dangerous disagreement; afterwards this share (percent)
# of clean results still goes to a person.
TRIAL_MIN_CONFIRMED = env.int("TRIAL_MIN_CONFIRMED", default=200)
AUTOMATIC_SAMPLE_PERCENT = env.float("AUTOMATIC_SAMPLE_PERCENT", default=2.0)

# --- Demonstrations ---
# Demo users with the password "demo" can only be created in demo mode.
DEMO_MODE = env.bool("DEMO_MODE", default=False)

# --- Django: apps, request handling, templates ---
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "portal",
    "orders",
    "robot",
    # Every administrative change (rules, catalogue, organisation, roles) is on record.
    "auditlog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise, so static files carry the policies too.
    "csp.middleware.CSPMiddleware",
    "portal.middleware.permissions_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # auditlog's, with the trusted client address; it needs request.user.
    "portal.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.session_lifetime",
    # Single sign-on sessions re-read the provider's groups (no-op without SSO).
    "portal.sso.GroupRecheck",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.private_pages",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
# Widgets render through TEMPLATES, so templates/ may override one (the admin's date and
# time inputs get labels there).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
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
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database and cache ---
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Without persistent connections every request pays for a new PostgreSQL connection.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests wait for each other's writes instead of failing with "locked";
    # the test database is a file for the same reason (in-memory SQLite locks whole tables).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
    # The statistics' covering indexes (columns included for index-only scans) are a
    # PostgreSQL optimisation; SQLite builds them as plain indexes, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache shared by every process (Redis in production, e.g. redis://127.0.0.1:6379/1):
# the case system's access token lives there, so web and worker processes reuse one.
# The default keeps it in each process's memory, which is right for a laptop.
CACHES = {
    "default": {
        **env.cache_url("CACHE_URL", default="locmemcache://"),
        "KEY_PREFIX": "attestportal",
    }
}

# --- Login and sessions ---
AUTH_USER_MODEL = "portal.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed logins, per user name and address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Behind reverse proxies every login comes from the proxy's address; the lockout must
# count the client's, read from X-Forwarded-For only when the request comes from one of
# these addresses or networks (IPs or CIDRs). From anywhere else the header is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"

# Idle timeout: the session ends after this many minutes without a request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Absolute lifetime: a session ends this many hours after the login, however busy.
SESSION_ABSOLUTE_HOURS = env.float("SESSION_ABSOLUTE_HOURS", default=10)
# Approving a payroll or administrator role needs the password (or the municipality's
# login) given again within this many seconds.
REAUTH_MAX_AGE_SECONDS = env.int("REAUTH_MAX_AGE_SECONDS", default=300)

# --- Single sign-on (OpenID Connect) ---
# Staff sign in through the municipality's provider (Entra ID, AD FS); see the README.
# Single sign-on is on when OIDC_ISSUER is set. The provider's groups decide roles and
# memberships (portal.GroupMapping, in the admin).
# SSO_DEV_PROVIDER: in demo mode only, the address of the local test provider
# (scripts/oidc, any password works) fills in everything below.
SSO_DEV_PROVIDER = env.str("SSO_DEV_PROVIDER", default="") if DEMO_MODE else ""
_sso_dev = SSO_DEV_PROVIDER.rstrip("/")
OIDC_OP_ISSUER = env.str("OIDC_ISSUER", default=_sso_dev)
SSO_ENABLED = bool(OIDC_OP_ISSUER)
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="attestportal" if _sso_dev else "")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="dev-secret" if _sso_dev else "")
OIDC_RP_SCOPES = env.str(
    "OIDC_SCOPES", default="openid email profile groups" if _sso_dev else "openid email profile"
)
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str(
    "OIDC_AUTHORIZATION_ENDPOINT", default=_sso_dev and f"{_sso_dev}/auth"
)
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", default=_sso_dev and f"{_sso_dev}/token")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", default=_sso_dev and f"{_sso_dev}/me")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_JWKS_ENDPOINT", default=_sso_dev and f"{_sso_dev}/jwks")
OIDC_OP_LOGOUT_ENDPOINT = env.str(
    "OIDC_END_SESSION_ENDPOINT", default=_sso_dev and f"{_sso_dev}/session/end"
)
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_CLOCK_SKEW_SECONDS = env.int("OIDC_CLOCK_SKEW_SECONDS", default=120)
# Entra ID puts at most 200 groups in a token; past that it sends an overage claim and the
# groups are read from Microsoft Graph with the user's access token (delegated
# User.Read and GroupMember.Read.All). A failed read refuses the login.
OIDC_GRAPH_MEMBER_GROUPS_URL = env.str(
    "OIDC_GRAPH_MEMBER_GROUPS_URL", default="https://graph.microsoft.com/v1.0/me/getMemberGroups"
)
OIDC_GRAPH_TIMEOUT = env.float("OIDC_GRAPH_TIMEOUT", default=10)
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # for the provider's logout (id_token_hint)
# Local accounts that may still log in with a password when single sign-on is on.
SSO_BREAK_GLASS_USERS = env.list("SSO_BREAK_GLASS_USERS", default=[])
# Whom a person with no mapped group is told to ask (default: PAYROLL_CONTACT).
SSO_ACCESS_CONTACT = env.str("SSO_ACCESS_CONTACT", default="")
# A single sign-on session asks the provider again (silently) after this many minutes, so
# a person removed from a group loses the role or unit within that time.
SSO_RECHECK_MINUTES = env.int("SSO_RECHECK_MINUTES", default=15)
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = SSO_RECHECK_MINUTES * 60
# The provider's origin: the logout form is answered with a redirect there, which the
# browser checks against the policy's form-action (CONTENT_SECURITY_POLICY).
_sso_logout_origin = "/".join(OIDC_OP_LOGOUT_ENDPOINT.split("/")[:3])

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's passwords, refused to single sign-on users but break-glass accounts.
    "portal.sso.PasswordBackend",
    *(["portal.sso.OIDCBackend"] if SSO_ENABLED else []),
]

# --- Language and time ---
LANGUAGE_CODE = "da"
LANGUAGES = [("da", "Dansk")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

# --- Static files ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names need `collectstatic` first, which tests and a plain runserver skip.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
# Before `collectstatic` has run (a laptop, the tests) the finders serve everything.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ---
# Keys for CPR numbers at rest. Without them, keys are derived from SECRET_KEY,
# which is fine on a laptop; production sets both (see the deploy check in portal.checks).
CPR_ENCRYPTION_KEY = env("CPR_ENCRYPTION_KEY", default="")
CPR_HASH_KEY = env("CPR_HASH_KEY", default="")

# Security headers; `check --deploy` must be clean with DEBUG off behind TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own static files: an injected <script>, event handler
# or style attribute does nothing. htmx's own inline style is switched off in base.html.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # The review page shows a returned certificate in an <object>, from this origin.
        "object-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *([_sso_logout_origin] if _sso_logout_origin else [])],
        "base-uri": ["'self'"],
    },
}

# --- E-mail ---
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="attestportal@localhost")
# A hanging mail server must not hold a worker until the task time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# --- Logging ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "portal.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines carry query strings; keep them, but through the redacting formatter.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Statistics ---
# A case counts as stuck when it has waited longer than this many days in its stage.
STATS_STUCK_DAYS = {
    "batch": 2,
    "police": 14,
    "evaluation": 1,
    "review": 3,
    "filing": 2,
    **env.dict("STATS_STUCK_DAYS", cast={"value": int}, default={}),
}
# Minutes each step takes by hand, for "hours saved" (the manual process before the portal).
STATS_MANUAL_MINUTES = {
    "order": 20,
    "batch_line": 5,
    "evaluation": 10,
    "filing": 10,
    "review": 30,
    **env.dict("STATS_MANUAL_MINUTES", cast={"value": int}, default={}),
}
# What an hour of a clerk's time costs with overhead (kroner), and the hours a full-time
# employee works in a year (37 hours a week; the state's standard årsværk is 1,924 hours):
# the hours saved are shown in kroner and full-time equivalents too.
STATS_HOURLY_COST_DKK = env.int("STATS_HOURLY_COST_DKK", default=450)
STATS_HOURS_PER_FTE = env.int("STATS_HOURS_PER_FTE", default=1924)
# The monthly report (PDF) is e-mailed on this day of the month at 06:00 for the month before.
STATS_REPORT_RECIPIENTS = env.list("STATS_REPORT_RECIPIENTS", default=[])
STATS_REPORT_DAY = env.int("STATS_REPORT_DAY", default=1)
# Beat brings the statistics' summary of the timeline up to date this often; pages show
# the figures as of its last round, with its time.
STATS_SUMMARY_EVERY_SECONDS = env.float("STATS_SUMMARY_EVERY_SECONDS", default=300)

# --- HR and payroll system ---
# New hires from the HR system prompt their managers to order (orders/hires/).
# Managers are reminded this many days before the start date if nothing is ordered.
HIRE_REMINDER_DAYS = env.int("HIRE_REMINDER_DAYS", default=10)
# Payroll's compliance list and the order list's badge: hires starting within this many
# days, or started within the look-back, without every required certificate answered.
# Three weeks, as an answer takes about two (median 13.4 days from order to answer).
HIRE_COMPLIANCE_DAYS = env.int("HIRE_COMPLIANCE_DAYS", default=21)
HIRE_COMPLIANCE_LOOKBACK_DAYS = env.int("HIRE_COMPLIANCE_LOOKBACK_DAYS", default=90)
# An employment from SD that could not be used is tried at every poll, and forgotten
# (with its encrypted CPR number) this many days after it was first seen.
HIRE_UNREAD_KEEP_DAYS = env.int("HIRE_UNREAD_KEEP_DAYS", default=60)
# SD Løn's web service (empty SD_URL: not polled), e.g. https://service.sd.dk/sdws
SD_URL = env.str("SD_URL", default="")
SD_USERNAME = env.str("SD_USERNAME", default="")
SD_PASSWORD = env.str("SD_PASSWORD", default="")
SD_INSTITUTION = env.str("SD_INSTITUTION", default="")
SD_TIMEOUT = env.float("SD_TIMEOUT", default=30)
# The first poll asks for changes this many days back; later polls continue from the last
# successful one, so a failed poll is asked again.
SD_FIRST_POLL_DAYS = env.int("SD_FIRST_POLL_DAYS", default=30)
SD_POLL_EVERY_SECONDS = env.float("SD_POLL_EVERY_SECONDS", default=3600)
# The organisation (units, parents, areas, managers) imported by beat and applied
# (portal/org_sources.py): "folder" (the newest CSV/XLSX in ORG_DROP_FOLDER), "sd"
# (SD Løn's GetOrganization20111201/GetDepartment20111201) or "off".
ORG_IMPORT_SOURCE = env.str("ORG_IMPORT_SOURCE", default="folder")
ORG_DROP_FOLDER = env.str("ORG_DROP_FOLDER", default=str(BASE_DIR / "var" / "organisation"))
# SD's department level whose departments are areas (forvaltninger), e.g. "NY3-niveau";
# empty: the top of SD's tree.
SD_AREA_LEVEL = env.str("SD_AREA_LEVEL", default="")
# A scheduled import that would close more than this share of the units is not applied.
ORG_IMPORT_MAX_CLOSE_PERCENT = env.int("ORG_IMPORT_MAX_CLOSE_PERCENT", default=20)
ORG_IMPORT_EVERY_SECONDS = env.float("ORG_IMPORT_EVERY_SECONDS", default=3600)
# Limits on every imported file (organisation and new hires, uploaded or dropped) and on
# SD Løn's answers, checked before the content is unpacked or parsed (portal/tabular.py,
# portal/sd.py): a hostile or broken file fails with a reason instead of taking the
# worker's memory or time.
IMPORT_MAX_FILE_MB = env.int("IMPORT_MAX_FILE_MB", default=10)
# openpyxl reads a sheet that does not declare its size twice, at about 1 MB a second:
# the unpacked limit is what bounds an XLSX import's time (30 MB: about half a minute).
IMPORT_MAX_UNPACKED_MB = env.int("IMPORT_MAX_UNPACKED_MB", default=30)
IMPORT_MAX_SHARED_STRINGS_MB = env.int("IMPORT_MAX_SHARED_STRINGS_MB", default=10)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=100)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=1000)
SD_MAX_RESPONSE_MB = env.int("SD_MAX_RESPONSE_MB", default=20)
# SD_TIMEOUT bounds each wait for data; this bounds a whole answer, however slowly it
# drips (an answer ends within this plus one SD_TIMEOUT).
SD_MAX_RESPONSE_SECONDS = env.float("SD_MAX_RESPONSE_SECONDS", default=25)
# Every e-mail goes through the orders app's outbox (recorded, sent by the worker,
# retried). The organisation app may not import orders, so it reaches the outbox by this
# path (portal/outbox.py); a failed organisation import is e-mailed through it too.
EMAIL_OUTBOX = "orders.notifications.queue_email"

# --- Celery ---
# Last, because the beat schedule runs the periodic tasks of every section above.
# With no broker configured, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker without a server (a shared folder), for a small single-host setup.
    _broker_dir = Path(
        env.str("CELERY_FILESYSTEM_BROKER_DIR", default=str(BASE_DIR / "var" / "broker"))
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# A new filing job wakes a worker this many seconds later, once for all jobs queued meanwhile.
FILING_WAKE_SECONDS = env.int("FILING_WAKE_SECONDS", default=2)
# How often beat runs the robot's and the orders' periodic tasks (seconds).
DEADLINES_EVERY_SECONDS = env.float("DEADLINES_EVERY_SECONDS", default=3600)
FILING_EVERY_SECONDS = env.float("FILING_EVERY_SECONDS", default=30)
INTAKE_EVERY_SECONDS = env.float("INTAKE_EVERY_SECONDS", default=60)
EMAIL_RETRY_EVERY_SECONDS = env.float("EMAIL_RETRY_EVERY_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "deadlines": {"task": "orders.tasks.process_deadlines", "schedule": DEADLINES_EVERY_SECONDS},
    "filing": {"task": "robot.tasks.file_due", "schedule": FILING_EVERY_SECONDS},
    "intake": {"task": "robot.tasks.sweep_intake", "schedule": INTAKE_EVERY_SECONDS},
    "retry-emails": {
        "task": "orders.tasks.send_pending_notifications",
        "schedule": EMAIL_RETRY_EVERY_SECONDS,
    },
    "retention": {"task": "robot.tasks.apply_retention", "schedule": crontab(hour=3, minute=15)},
    # The monthly report (PDF), at 06:00, for the month before.
    "monthly-report": {
        "task": "robot.tasks.send_monthly_report",
        "schedule": crontab(day_of_month=STATS_REPORT_DAY, hour=6, minute=0),
    },
    "statistics-summary": {
        "task": "robot.tasks.refresh_statistics",
        "schedule": STATS_SUMMARY_EVERY_SECONDS,
    },
    # Both do nothing when not configured (no SD_URL; ORG_IMPORT_SOURCE=off).
    "sd-poll": {"task": "orders.tasks.poll_sd", "schedule": SD_POLL_EVERY_SECONDS},
    "org-import": {
        "task": "portal.tasks.import_organisation",
        "schedule": ORG_IMPORT_EVERY_SECONDS,
    },
}
