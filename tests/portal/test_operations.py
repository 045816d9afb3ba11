import gettext
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.models import Order, PositionProfile
from portal.logging import RedactingFormatter
from portal.models import User

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    [
        "120396-1234",
        "1203961234",
        "120396 1234",
        "GET /?q=120396+1234",
        "q=120396%201234",
        "q=120396%2D1234",
    ],
)
def test_cpr_numbers_are_masked_in_log_lines(text):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "saw %s", (text,), None)
    line = RedactingFormatter("%(message)s").format(record)
    assert "1234" not in line and "120396-xxxx" in line


def test_cpr_numbers_are_masked_in_logged_tracebacks():
    try:
        raise ValueError("bad 1203961234")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "1203961234" not in RedactingFormatter().format(record)


def test_pages_behind_login_are_never_cached(client, school_manager):
    client.force_login(school_manager)
    response = client.get("/bestillinger/")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": "a" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b",
        "ALLOWED_HOSTS": "attest.kommune.dk",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_COOKIES": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "STATIC_MANIFEST": "true",
        "CPR_ENCRYPTION_KEY": "k" * 40,
        "CPR_HASH_KEY": "h" * 40,
        "DEMO_MODE": "false",
        "PORTAL_BASE_URL": "https://attest.kommune.dk",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_warns_about_missing_cpr_keys_and_demo_mode():
    env = {
        **os.environ,
        "DEMO_MODE": "true",
        "CPR_ENCRYPTION_KEY": "",
        "CPR_HASH_KEY": "",
        "PORTAL_BASE_URL": "http://127.0.0.1:8000",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    for check in ("portal.W001", "portal.W002", "portal.W003", "portal.W004"):
        assert check in result.stderr + result.stdout


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def unused_port() -> int:
    """A loopback port nobody listens on: the system hands out a free one, we let it go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:{port}/0", "amqp://guest:guest@127.0.0.1:{port}//"]
)
def test_healthz_answers_503_when_the_broker_is_down(client, db, settings, url):
    port = unused_port()
    settings.CELERY_BROKER_URL = url.format(port=port)
    assert not listening(port)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "unavailable"}


def test_healthz_reports_a_running_broker_as_ok(client, db, settings):
    """Against a real broker server: the one CI configures (Redis), else a local Redis."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured.startswith(("redis://", "amqp://")):
        settings.CELERY_BROKER_URL = configured
    elif listening(6379):
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    elif os.environ.get("CI"):
        pytest.fail("CI runs with a broker server: set CELERY_BROKER_URL (see .ci/run)")
    else:
        pytest.skip("no broker server: set CELERY_BROKER_URL or start Redis on 127.0.0.1:6379")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_demo_data_needs_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="set DEMO_MODE=true"):
        call_command("load_demo")
    assert not User.objects.exists()


def test_demo_data_loads_and_can_be_loaded_again(db, settings):
    settings.DEMO_MODE = True
    call_command("load_demo")
    counts = (User.objects.count(), PositionProfile.objects.count(), Order.objects.count())
    call_command("load_demo")
    assert (User.objects.count(), PositionProfile.objects.count(), Order.objects.count()) == counts
    assert {"leder.skole", "leder.aeldre", "loen", "admin"} <= set(
        User.objects.values_list("username", flat=True)
    )
    assert User.objects.get(username="leder.skole").check_password("demo")
    assert User.objects.get(username="loen").is_payroll
    # Elderly care never sees school positions.
    elderly = PositionProfile.objects.filter(area__name="Ældre og Handicap")
    assert not elderly.filter(requirements__legal_basis__kind__code="child").exists()


def test_every_interface_text_has_a_danish_translation():
    po = (ROOT / "locale" / "da" / "LC_MESSAGES" / "django.po").read_text()
    entries = po.split("\n\n")[1:]  # the first entry is the header
    untranslated = [e for e in entries if 'msgstr ""' in e and '\n"' not in e.split("msgstr")[-1]]
    fuzzy = [e for e in entries if "#, fuzzy" in e]
    assert not untranslated and not fuzzy, (untranslated + fuzzy)[:3]
    # The compiled catalogue that Django loads must hold every entry of the .po file.
    with open(ROOT / "locale" / "da" / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    assert len({k for k in compiled if k}) >= len(entries)
