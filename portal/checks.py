from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http.request import validate_host


@register(Tags.security, deploy=True)
def check_cpr_keys(app_configs, **kwargs):
    """Production must not derive the CPR keys from SECRET_KEY (rotating one would break both)."""
    return [
        Warning(
            f"{name} is not set; CPR numbers are protected with a key derived from SECRET_KEY.",
            hint=f"Set {name} in the environment (see .env.example).",
            id=f"portal.W00{i}",
        )
        for i, name in enumerate(["CPR_ENCRYPTION_KEY", "CPR_HASH_KEY"], start=1)
        if not getattr(settings, name)
    ]


@register(Tags.security, deploy=True)
def check_demo_mode(app_configs, **kwargs):
    if settings.DEMO_MODE:
        return [
            Warning(
                "DEMO_MODE is on: demo users with a known password can be created.",
                hint="Unset DEMO_MODE in production.",
                id="portal.W003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_portal_base_url(app_configs, **kwargs):
    """Links in e-mails must point at the real portal, over HTTPS."""
    if not settings.PORTAL_BASE_URL.startswith("https://"):
        return [
            Warning(
                f"PORTAL_BASE_URL is {settings.PORTAL_BASE_URL!r}: links in e-mails will not "
                "reach the portal over HTTPS.",
                hint="Set PORTAL_BASE_URL to the portal's public https:// address.",
                id="portal.W004",
            )
        ]
    return []


@register(Tags.security)
def check_portal_base_url_matches_hosts(app_configs, **kwargs):
    """Every start (migrate, runserver), not only `check --deploy`: a portal moved to its
    real address with PORTAL_BASE_URL left at its laptop default sends e-mails whose
    links lead to the server's own loopback, which nobody's browser reaches."""
    try:
        host = urlsplit(settings.PORTAL_BASE_URL).hostname or ""
    except ValueError:
        return []  # not an address at all: portal.E003 says so
    if validate_host(host, settings.ALLOWED_HOSTS):
        return []
    return [
        Warning(
            f"PORTAL_BASE_URL is {settings.PORTAL_BASE_URL!r}, but the portal answers at "
            f"{', '.join(settings.ALLOWED_HOSTS)}: links in e-mails do not lead to it.",
            hint="Set PORTAL_BASE_URL to the portal's public address, e.g. "
            "https://attest.kommune.dk (see .env.example).",
            id="portal.W005",
        )
    ]


# --- The portal's own settings ---------------------------------------------------------
# Each is read once from the environment in portal/settings.py; a value the portal cannot
# work with stops `manage.py check` (and migrate, runserver) naming the variable, instead
# of failing a task at night or silently doing nothing.

# Counts, sizes, durations and intervals that make no sense at zero or below.
POSITIVE = [
    "CONSENT_DAYS",
    "LINE_EXPIRY_DAYS",
    "START_SOON_DAYS",
    "RETENTION_FILE_DAYS",
    "RETENTION_ORDER_MONTHS",
    "RETENTION_ACCESS_LOG_MONTHS",
    "MAX_DOCUMENT_BYTES",
    "IMAP_TIMEOUT",
    "SBSYS_TIMEOUT",
    "GETORGANIZED_TIMEOUT",
    "ESDH_RATE_LIMIT",
    "ESDH_RETRY_HORIZON_HOURS",
    "PDF_READ_CPU_SECONDS",
    "PDF_READ_MEMORY_MB",
    "UNREAD_RETRY_MINUTES",
    "UNREAD_GIVE_UP_MINUTES",
    "TRIAL_MIN_CONFIRMED",
    "AXES_FAILURE_LIMIT",
    "SESSION_COOKIE_AGE",
    "SESSION_ABSOLUTE_HOURS",
    "REAUTH_MAX_AGE_SECONDS",
    "EMAIL_TIMEOUT",
    "STATS_SUMMARY_EVERY_SECONDS",
    "HIRE_REMINDER_DAYS",
    "HIRE_COMPLIANCE_DAYS",
    "HIRE_COMPLIANCE_LOOKBACK_DAYS",
    "HIRE_UNREAD_KEEP_DAYS",
    "SD_TIMEOUT",
    "SD_FIRST_POLL_DAYS",
    "SD_POLL_EVERY_SECONDS",
    "ORG_IMPORT_EVERY_SECONDS",
    "IMPORT_MAX_FILE_MB",
    "IMPORT_MAX_UNPACKED_MB",
    "IMPORT_MAX_SHARED_STRINGS_MB",
    "IMPORT_MAX_ROWS",
    "IMPORT_MAX_COLUMNS",
    "IMPORT_MAX_CELL_CHARS",
    "SD_MAX_RESPONSE_MB",
    "SD_MAX_RESPONSE_SECONDS",
    "OIDC_CLOCK_SKEW_SECONDS",
    "OIDC_GRAPH_TIMEOUT",
    "OIDC_TIMEOUT",
    "SSO_RECHECK_MINUTES",
    "DEADLINES_EVERY_SECONDS",
    "FILING_EVERY_SECONDS",
    "INTAKE_EVERY_SECONDS",
    "EMAIL_RETRY_EVERY_SECONDS",
]
# Shares of a whole, in percent.
PERCENT = ["AUTOMATIC_SAMPLE_PERCENT", "ORG_IMPORT_MAX_CLOSE_PERCENT"]
# Web addresses the portal links to or calls, when set.
URLS = [
    "PORTAL_BASE_URL",
    "ACCESSIBILITY_STATEMENT_URL",
    "SD_URL",
    "SBSYS_URL",
    "SBSIP_URL",
    "GETORGANIZED_URL",
    "OIDC_OP_ISSUER",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
    "OIDC_OP_LOGOUT_ENDPOINT",
    "OIDC_GRAPH_MEMBER_GROUPS_URL",
]
CHOICES = {
    "ESDH_BACKEND": ["archive", "sbsys", "getorganized", "acadre"],
    "GETORGANIZED_AUTH": ["ntlm", "basic"],
    "ACADRE_AUTH": ["ntlm", "basic"],
    "ORG_IMPORT_SOURCE": ["folder", "sd", "off"],
}
# Settings named in the environment differently from in Django (settings.py).
ENVIRONMENT_NAME = {
    "MAX_DOCUMENT_BYTES": "MAX_DOCUMENT_MB",
    "SESSION_COOKIE_AGE": "SESSION_IDLE_MINUTES",
    "OIDC_OP_ISSUER": "OIDC_ISSUER",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "OIDC_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT": "OIDC_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT": "OIDC_USERINFO_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT": "OIDC_JWKS_ENDPOINT",
    "OIDC_OP_LOGOUT_ENDPOINT": "OIDC_END_SESSION_ENDPOINT",
}
SD_ACCOUNT = ["SD_USERNAME", "SD_PASSWORD", "SD_INSTITUTION"]
SBSYS_ACCOUNT = [
    "SBSYS_URL",
    "SBSIP_URL",
    "SBSYS_CLIENT_ID",
    "SBSYS_CLIENT_SECRET",
    "SBSYS_USERNAME",
    "SBSYS_PASSWORD",
]
GETORGANIZED_ACCOUNT = ["GETORGANIZED_URL", "GETORGANIZED_USERNAME", "GETORGANIZED_PASSWORD"]
ACADRE_ACCOUNT = ["ACADRE_URL", "ACADRE_USERNAME", "ACADRE_PASSWORD", "ACADRE_ACTING_USER"]
# What each case system needs before anything can be filed in it.
CASE_SYSTEM_ACCOUNTS = {
    "sbsys": SBSYS_ACCOUNT,
    "getorganized": GETORGANIZED_ACCOUNT,
    "acadre": ACADRE_ACCOUNT,
}
# The steps the statistics know (robot/statistics); another key is a typo that counts nothing.
STATS_STUCK_STAGES = {"batch", "police", "evaluation", "review", "filing"}
STATS_MANUAL_STEPS = {"order", "batch_line", "evaluation", "filing", "review"}


def _name(setting: str) -> str:
    return ENVIRONMENT_NAME.get(setting, setting)


def _is_address(value: str, schemes: tuple[str, ...] = ("http", "https")) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname) and " " not in value


@register("settings")
def check_domain_settings(app_configs, **kwargs):
    """The portal's own settings hold values it can work with."""
    errors = []
    for setting in POSITIVE:
        value = getattr(settings, setting)
        if not value > 0:
            errors.append(
                Error(
                    f"{_name(setting)} is {value!r}; it must be more than 0.",
                    hint=f"Set {_name(setting)} in the environment (see .env.example).",
                    id="portal.E001",
                )
            )
    for setting in PERCENT:
        value = getattr(settings, setting)
        if not 0 <= value <= 100:
            errors.append(
                Error(
                    f"{setting} is {value!r}; it is a percentage, from 0 to 100.",
                    id="portal.E002",
                )
            )
    for setting in URLS:
        value = getattr(settings, setting)
        if value and not _is_address(value):
            errors.append(
                Error(
                    f"{_name(setting)} is {value!r}, which is not a web address.",
                    hint="Give the whole address, starting with https://.",
                    id="portal.E003",
                )
            )
    # Its value carries the mailbox's password: never echoed.
    if settings.IMAP_URL and not _is_address(settings.IMAP_URL, ("imap", "imaps")):
        errors.append(
            Error(
                "IMAP_URL is not a mailbox address.",
                hint="Write it as imaps://user:password@mail.kommune.dk/INBOX.",
                id="portal.E003",
            )
        )
    for setting, choices in CHOICES.items():
        value = getattr(settings, setting)
        if value not in choices:
            errors.append(
                Error(
                    f"{setting} is {value!r}; it must be one of: {', '.join(choices)}.",
                    id="portal.E004",
                )
            )
    return errors


@register("settings")
def check_configured_files(app_configs, **kwargs):
    """A folder or file named in the environment is there: the robot would otherwise skip
    the drop folder without a word, and provenance would have no trust anchors to read."""
    errors = []
    if settings.DROP_FOLDER and not Path(settings.DROP_FOLDER).is_dir():
        errors.append(
            Error(
                f"DROP_FOLDER is {settings.DROP_FOLDER!r}, which is not a folder.",
                hint="Create the folder, or leave DROP_FOLDER empty to sweep no folder.",
                id="portal.E005",
            )
        )
    if settings.PDF_TRUST_ANCHORS and not Path(settings.PDF_TRUST_ANCHORS).is_file():
        errors.append(
            Error(
                f"PDF_TRUST_ANCHORS is {settings.PDF_TRUST_ANCHORS!r}, which is not a file.",
                hint="Give the path of a PEM file with the police's signing certificates.",
                id="portal.E005",
            )
        )
    return errors


@register("settings")
def check_integrations_complete(app_configs, **kwargs):
    """An integration that is switched on has everything it needs to log in."""
    errors = []
    if settings.SD_URL:
        missing = [name for name in SD_ACCOUNT if not getattr(settings, name)]
        if missing:
            errors.append(
                Error(
                    f"SD_URL is set, but not {', '.join(missing)}: SD Løn cannot be asked.",
                    hint="Set all of them, or leave SD_URL empty to not poll SD Løn.",
                    id="portal.E006",
                )
            )
    elif settings.ORG_IMPORT_SOURCE == "sd":
        errors.append(
            Error(
                "ORG_IMPORT_SOURCE is 'sd', but SD_URL is not set: nothing is imported.",
                hint="Set SD_URL and its account, or choose ORG_IMPORT_SOURCE=folder or off.",
                id="portal.E006",
            )
        )
    missing = [
        name
        for name in CASE_SYSTEM_ACCOUNTS.get(settings.ESDH_BACKEND, [])
        if not getattr(settings, name)
    ]
    if missing:
        errors.append(
            Error(
                f"ESDH_BACKEND is {settings.ESDH_BACKEND!r}, but not {', '.join(missing)}: "
                "nothing can be filed.",
                hint="Set all of them (see .env.example).",
                id="portal.E007",
            )
        )
    return errors


@register("settings")
def check_schedules(app_configs, **kwargs):
    """Deadlines and schedules that hold together."""
    errors = []
    reminders = settings.CONSENT_REMINDER_DAYS
    if any(not 0 < day < settings.CONSENT_DAYS for day in reminders):
        errors.append(
            Error(
                f"CONSENT_REMINDER_DAYS is {','.join(map(str, reminders))}; each reminder "
                f"must fall within the {settings.CONSENT_DAYS} days of CONSENT_DAYS.",
                id="portal.E008",
            )
        )
    # Day 29 to 31 would skip the report in the months without that day.
    if not 1 <= settings.STATS_REPORT_DAY <= 28:
        errors.append(
            Error(
                f"STATS_REPORT_DAY is {settings.STATS_REPORT_DAY}; it must be a day every "
                "month has, from 1 to 28.",
                id="portal.E009",
            )
        )
    for setting, known in (
        ("STATS_STUCK_DAYS", STATS_STUCK_STAGES),
        ("STATS_MANUAL_MINUTES", STATS_MANUAL_STEPS),
    ):
        value = getattr(settings, setting)
        unknown = sorted(set(value) - known)
        if unknown:
            errors.append(
                Error(
                    f"{setting} names steps the statistics do not know: {', '.join(unknown)}.",
                    hint=f"The steps are: {', '.join(sorted(known))}.",
                    id="portal.E010",
                )
            )
        negative = sorted(key for key, number in value.items() if number < 0)
        if negative:
            errors.append(
                Error(
                    f"{setting} is below 0 for {', '.join(negative)}.",
                    id="portal.E010",
                )
            )
    # The soft limit (30 seconds earlier) lets a task end cleanly before it is killed.
    if settings.CELERY_TASK_TIME_LIMIT <= 30:
        errors.append(
            Error(
                f"CELERY_TASK_TIME_LIMIT is {settings.CELERY_TASK_TIME_LIMIT}; it must be more "
                "than 30 seconds.",
                id="portal.E011",
            )
        )
    return errors
