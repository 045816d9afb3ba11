"""Headers and settings that protect the portal without anyone seeing them: the
Content-Security-Policy, the Permissions-Policy, caching of personal pages, the login
lockout behind a proxy and the CPR-free access log."""

import datetime
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

LOGIN = reverse("login")
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
# Letters are rendered to PDF and e-mails are plain text: no browser applies a CSP to them.
NOT_WEB_PAGES = ("letters", "emails")

MANAGER_PAGES = ["orders:list", "orders:create", "welcome"]
PAYROLL_PAGES = [
    "payroll:batches",
    "robot:intake",
    "robot:queue",
    "robot:filing",
    "access_log_export",
]


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


class InlineCode(HTMLParser):
    """Collects what a strict CSP refuses: inline scripts, event handlers, style attributes
    and <style> elements."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on")]
        if "style" in names:
            self.found.append(f"{tag} style=")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def pages(client, user, names):
    client.force_login(user)
    for name in names:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        yield name, response


# --- Content-Security-Policy -----------------------------------------------------------


@pytest.mark.django_db
def test_every_page_forbids_inline_scripts_and_framing(client, school_manager, payroll):
    responses = [("login", client.get(LOGIN))]
    responses += list(pages(client, school_manager, MANAGER_PAGES))
    responses += list(pages(client, payroll, PAYROLL_PAGES))

    for name, response in responses:
        policy = csp_directives(response)
        assert policy["script-src"] == ["'self'"], name
        assert policy["default-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["form-action"] == ["'self'"], name
        assert policy["base-uri"] == ["'self'"], name
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], name
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], name


@pytest.mark.django_db
def test_the_certificate_viewer_may_embed_pdfs_from_the_portal_only(client, payroll):
    client.force_login(payroll)
    policy = csp_directives(client.get(reverse("robot:queue")))
    assert policy["object-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]


@pytest.mark.django_db
def test_pages_contain_no_code_the_policy_would_block(client, school_manager, payroll):
    responses = [("login", client.get(LOGIN))]
    responses += list(pages(client, school_manager, MANAGER_PAGES))
    responses += list(pages(client, payroll, PAYROLL_PAGES))

    for name, response in responses:
        html = response.content.decode()
        assert inline_code(html) == [], name
        # Otherwise htmx adds its indicator as an inline <style>, which the policy refuses.
        assert '"includeIndicatorStyles": false' in html, name


def test_no_template_has_inline_scripts_event_handlers_or_style_attributes():
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        if template.relative_to(TEMPLATES).parts[0] in NOT_WEB_PAGES:
            continue
        # Template tags inside attributes confuse an HTML parser; the text is enough.
        text = re.sub(r"{%.*?%}|{{.*?}}", "x", template.read_text())
        offenders += [f"{template.relative_to(TEMPLATES)}: {what}" for what in inline_code(text)]
    assert offenders == []


@pytest.mark.django_db
def test_dissolving_a_batch_still_asks_first(client, payroll):
    source = (TEMPLATES / "orders" / "payroll_batch.html").read_text()
    assert 'data-confirm="{% translate "Dissolve the batch?' in source
    client.force_login(payroll)
    assert "js/confirm.js" in client.get(reverse("payroll:batches")).content.decode()


# --- Permissions-Policy ----------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_switches_off_camera_microphone_location_payment_and_usb(client):
    responses = {
        "page": client.get(LOGIN),
        "not found": client.get("/findes-ikke/"),
        "static file": client.get("/static/css/portal.css"),
    }
    for name, response in responses.items():
        policy = {p.strip() for p in response["Permissions-Policy"].split(",")}
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy, name
        # The copy buttons on the batch page need the clipboard.
        assert not any(p.startswith("clipboard") for p in policy), name


# --- Caching of pages behind login -----------------------------------------------------


@pytest.mark.django_db
def test_pages_behind_login_say_each_cache_directive_once(client, school_manager, payroll):
    for name, response in [
        *pages(client, school_manager, MANAGER_PAGES),
        *pages(client, payroll, PAYROLL_PAGES),
    ]:
        directives = Counter(d.strip() for d in response["Cache-Control"].split(","))
        assert directives == Counter(
            ["max-age=0", "no-cache", "no-store", "must-revalidate", "private"]
        ), name
        assert "HX-Request" in response["Vary"], name


# --- Login lockout behind a reverse proxy ----------------------------------------------

PROXY = "10.0.0.2"


def log_in(client, client_address, password, forwarded_by_client=""):
    """A login through the proxy: it appends the address it was connected from."""
    chain = ", ".join(filter(None, [forwarded_by_client, client_address]))
    return client.post(
        LOGIN,
        {"username": "leder.a", "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=chain,
    )


def test_behind_a_proxy_failed_logins_lock_out_that_client_only(client, settings, school_manager):
    settings.TRUSTED_PROXIES = [PROXY]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "198.51.100.7", "wrong")

    assert log_in(client, "198.51.100.7", "secret-password-1").status_code == 429
    # A colleague behind the same proxy still gets in.
    assert log_in(client, "198.51.100.8", "secret-password-1").status_code == 302


def test_behind_a_proxy_a_client_cannot_dodge_the_lockout_with_its_own_header(
    client, settings, school_manager
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "198.51.100.7", "wrong", forwarded_by_client=f"203.0.113.{attempt}")

    response = log_in(
        client, "198.51.100.7", "secret-password-1", forwarded_by_client="203.0.113.99"
    )
    assert response.status_code == 429


@pytest.mark.parametrize("proxies", [[], [PROXY, "10.1.0.0/16"]])
def test_a_client_reaching_the_portal_directly_cannot_dodge_the_lockout_with_the_header(
    client, settings, school_manager, proxies
):
    """Whether or not proxies are configured: the connection is not from one of them."""
    settings.TRUSTED_PROXIES = proxies
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "leder.a", "password": "wrong"},
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        )

    response = client.post(
        LOGIN,
        {"username": "leder.a", "password": "secret-password-1"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert response.status_code == 429


def test_behind_two_trusted_proxies_the_lockout_counts_the_address_the_outer_one_saw(
    client, settings, school_manager
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "leder.a", "password": "wrong"},
            REMOTE_ADDR=PROXY,
            # forged by the client, the client as the outer proxy saw it, the outer proxy
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}, 198.51.100.7, 10.0.0.3",
        )

    def from_client(address):
        return client.post(
            LOGIN,
            {"username": "leder.a", "password": "secret-password-1"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"203.0.113.99, {address}, 10.0.0.3",
        )

    assert from_client("198.51.100.7").status_code == 429
    assert from_client("198.51.100.8").status_code == 302


# --- Gunicorn's access log -------------------------------------------------------------


def gunicorn_logger(tmp_path):
    from gunicorn.app.base import Application
    from gunicorn.config import Config

    cfg = Config()
    conf = Application.get_config_from_filename(
        None, str(django_settings.BASE_DIR / "gunicorn.conf.py")
    )
    for name, value in conf.items():
        if name in cfg.settings:
            cfg.set(name, value)
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    return cfg.logger_class(cfg), log_file


def test_the_access_log_holds_no_cpr_numbers_and_no_query_strings(tmp_path):
    logger, log_file = gunicorn_logger(tmp_path)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/bestillinger/?q=010190-1234",
        "PATH_INFO": "/personer/0101901234/",
        "QUERY_STRING": "q=01.01.90-1234&navn=Jens",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.7",
        "HTTP_REFERER": "https://attest.kommune.dk/bestillinger/?q=010190%2D1234",
        "HTTP_USER_AGENT": "Mozilla/5.0 (010190 1234)",
    }
    request = SimpleNamespace(headers=[("USER-AGENT", environ["HTTP_USER_AGENT"])])
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])

    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = log_file.read_text()

    assert "/personer/010190-xxxx/ HTTP/1.1" in line
    assert " 200 512 " in line
    for cpr in ("1234", "q=", "navn=Jens"):
        assert cpr not in line


def test_gunicorns_error_log_masks_cpr_numbers_too(tmp_path):
    logger, _ = gunicorn_logger(tmp_path)
    logger.error("Invalid request from %s: %s", "198.51.100.7", "GET /x/010190-1234")
    for handler in logger.error_log.handlers:
        handler.flush()
    text = (tmp_path / "error.log").read_text()
    assert "010190-xxxx" in text and "1234" not in text


def test_readme_starts_gunicorn_with_the_config_file():
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    assert "gunicorn -c gunicorn.conf.py portal.wsgi" in readme


def test_the_audit_trail_records_the_address_the_lockout_counts(client, settings, admin_user):
    from auditlog.models import LogEntry

    from portal.models import UnitType

    settings.TRUSTED_PROXIES = [PROXY]
    kind = UnitType.objects.create(name="Bibliotek")
    client.force_login(admin_user)

    def rename(name, **addresses):
        page = reverse("admin:portal_unittype_change", args=[kind.pk])
        assert client.post(page, {"name": name}, **addresses).status_code == 302
        return LogEntry.objects.get_for_object(kind).latest("timestamp").remote_addr

    direct = rename("Biblioteker", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    proxied = rename("Bibliotek", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.8")

    assert (direct, proxied) == ("198.51.100.7", "198.51.100.8")
