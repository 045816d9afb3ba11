"""`manage.py check` stops on a setting of the portal's own that it cannot work with, and
says which environment variable to fix; the defaults (a laptop) pass."""

import pytest
from django.core.checks import run_checks


def errors() -> dict[str, list[str]]:
    """The settings checks' errors, by id, with their messages."""
    found: dict[str, list[str]] = {}
    for message in run_checks(tags=["settings"]):
        found.setdefault(message.id, []).append(message.msg)
    return found


def test_the_defaults_pass_every_settings_check():
    assert run_checks(tags=["settings"]) == []


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("RETENTION_FILE_DAYS", 0, "RETENTION_FILE_DAYS"),
        ("RETENTION_ORDER_MONTHS", -1, "RETENTION_ORDER_MONTHS"),
        ("ESDH_RATE_LIMIT", 0.0, "ESDH_RATE_LIMIT"),
        ("TRIAL_MIN_CONFIRMED", 0, "TRIAL_MIN_CONFIRMED"),
        ("IMPORT_MAX_ROWS", 0, "IMPORT_MAX_ROWS"),
        ("MAX_DOCUMENT_BYTES", 0, "MAX_DOCUMENT_MB"),
        ("SD_POLL_EVERY_SECONDS", 0.0, "SD_POLL_EVERY_SECONDS"),
    ],
)
def test_a_count_or_interval_of_zero_or_less_is_refused_by_its_variable(
    settings, setting, value, variable
):
    setattr(settings, setting, value)

    assert errors()["portal.E001"] == [f"{variable} is {value!r}; it must be more than 0."]


@pytest.mark.parametrize("value", [-1, 101, 150.0])
def test_a_percentage_outside_0_to_100_is_refused(settings, value):
    settings.AUTOMATIC_SAMPLE_PERCENT = value
    settings.ORG_IMPORT_MAX_CLOSE_PERCENT = 20

    assert errors()["portal.E002"] == [
        f"AUTOMATIC_SAMPLE_PERCENT is {value!r}; it is a percentage, from 0 to 100."
    ]


def test_0_and_100_percent_are_allowed(settings):
    settings.AUTOMATIC_SAMPLE_PERCENT = 0
    settings.ORG_IMPORT_MAX_CLOSE_PERCENT = 100

    assert "portal.E002" not in errors()


@pytest.mark.parametrize("value", ["sd.kommune.dk/sdws", "ftp://sd.kommune.dk", "https://"])
def test_a_web_address_without_scheme_or_host_is_refused(settings, value):
    settings.SD_URL = value
    settings.SD_USERNAME = settings.SD_PASSWORD = settings.SD_INSTITUTION = "x"

    assert errors()["portal.E003"] == [f"SD_URL is {value!r}, which is not a web address."]


def test_an_oidc_endpoint_is_named_by_its_environment_variable(settings):
    settings.OIDC_OP_TOKEN_ENDPOINT = "login.microsoftonline.com/token"

    assert errors()["portal.E003"] == [
        "OIDC_TOKEN_ENDPOINT is 'login.microsoftonline.com/token', which is not a web address."
    ]


def test_a_malformed_mailbox_address_is_refused_without_showing_its_password(settings):
    settings.IMAP_URL = "https://attester:hemmeligt@mail.kommune.dk/INBOX"

    messages = run_checks(tags=["settings"])

    assert [m.id for m in messages] == ["portal.E003"]
    assert "hemmeligt" not in messages[0].msg + messages[0].hint


def test_a_mailbox_address_with_user_and_folder_passes(settings):
    settings.IMAP_URL = "imaps://attester:hemmeligt@mail.kommune.dk/INBOX"

    assert errors() == {}


def test_an_unknown_case_system_or_organisation_source_is_refused(settings):
    settings.ESDH_BACKEND = "sbsys5"
    settings.ORG_IMPORT_SOURCE = "ftp"

    assert errors()["portal.E004"] == [
        "ESDH_BACKEND is 'sbsys5'; it must be one of: archive, sbsys, getorganized, acadre.",
        "ORG_IMPORT_SOURCE is 'ftp'; it must be one of: folder, sd, off.",
    ]


def test_a_drop_folder_that_is_not_there_is_refused(settings, tmp_path):
    settings.DROP_FOLDER = str(tmp_path / "indbakke")

    assert errors()["portal.E005"] == [
        f"DROP_FOLDER is {settings.DROP_FOLDER!r}, which is not a folder."
    ]

    (tmp_path / "indbakke").mkdir()
    assert errors() == {}


def test_trust_anchors_must_be_a_file(settings, tmp_path):
    settings.PDF_TRUST_ANCHORS = str(tmp_path / "politi.pem")
    assert list(errors()) == ["portal.E005"]

    (tmp_path / "politi.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert errors() == {}


def test_sd_needs_its_whole_account_when_sd_url_is_set(settings):
    settings.SD_URL = "https://service.sd.dk/sdws"
    settings.SD_USERNAME = "attest"
    settings.SD_PASSWORD = ""
    settings.SD_INSTITUTION = ""

    assert errors()["portal.E006"] == [
        "SD_URL is set, but not SD_PASSWORD, SD_INSTITUTION: SD Løn cannot be asked."
    ]

    settings.SD_PASSWORD = "hemmeligt"
    settings.SD_INSTITUTION = "XY"
    assert errors() == {}


def test_importing_the_organisation_from_sd_needs_sd_url(settings):
    settings.SD_URL = ""
    settings.ORG_IMPORT_SOURCE = "sd"

    assert list(errors()) == ["portal.E006"]


def test_filing_in_sbsys_needs_its_whole_account(settings):
    settings.ESDH_BACKEND = "sbsys"
    settings.SBSYS_URL = "https://sbsys.kommune.dk"
    settings.SBSIP_URL = "https://sbsip.kommune.dk"
    settings.SBSYS_CLIENT_ID = "attest"
    settings.SBSYS_CLIENT_SECRET = "hemmelig"
    settings.SBSYS_USERNAME = "robot"
    settings.SBSYS_PASSWORD = ""

    assert errors()["portal.E007"] == [
        "ESDH_BACKEND is 'sbsys', but not SBSYS_PASSWORD: nothing can be filed."
    ]


def test_a_consent_reminder_after_the_consent_deadline_is_refused(settings):
    settings.CONSENT_DAYS = 14
    settings.CONSENT_REMINDER_DAYS = [7, 14]

    assert errors()["portal.E008"] == [
        "CONSENT_REMINDER_DAYS is 7,14; each reminder must fall within the 14 days of CONSENT_DAYS."
    ]


def test_the_monthly_report_day_is_one_every_month_has(settings):
    settings.STATS_REPORT_DAY = 31
    assert list(errors()) == ["portal.E009"]

    settings.STATS_REPORT_DAY = 28
    assert errors() == {}


def test_a_misspelt_statistics_step_is_refused(settings):
    settings.STATS_STUCK_DAYS = {**settings.STATS_STUCK_DAYS, "polce": 10}

    assert errors()["portal.E010"] == [
        "STATS_STUCK_DAYS names steps the statistics do not know: polce."
    ]


def test_negative_minutes_by_hand_are_refused(settings):
    settings.STATS_MANUAL_MINUTES = {**settings.STATS_MANUAL_MINUTES, "review": -5}

    assert errors()["portal.E010"] == ["STATS_MANUAL_MINUTES is below 0 for review."]


def test_a_task_time_limit_must_leave_room_for_the_soft_limit(settings):
    settings.CELERY_TASK_TIME_LIMIT = 30

    assert list(errors()) == ["portal.E011"]


def test_manage_py_check_fails_on_a_bad_setting(settings):
    """What an operator sees: the check command stops, naming the variable."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.RETENTION_ACCESS_LOG_MONTHS = 0

    with pytest.raises(SystemCheckError, match="RETENTION_ACCESS_LOG_MONTHS is 0"):
        call_command("check")


def test_the_case_systems_the_check_accepts_are_the_adapters_there_are():
    # The check lives in the organisation app, which may not import the robot's registry.
    from portal.checks import CHOICES
    from robot.esdh import ADAPTERS

    assert sorted(CHOICES["ESDH_BACKEND"]) == sorted(ADAPTERS)
