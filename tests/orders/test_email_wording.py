"""The e-mails as their readers get them: a subject that says what happened, Danish that
reads right whatever the certificate kind, and links that lead to the portal's address."""

import datetime
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.template.loader import render_to_string
from django.utils import timezone, translation

from orders.models import Notification

from ..factories import UserFactory, hire_awaiting_order, make_cpr, order_for

EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
TEMPLATES = sorted(path.name.removesuffix(".subject.txt") for path in EMAILS.glob("*.subject.txt"))
# The kinds as the catalogue seeds them (orders/catalogue.py).
KIND_NAMES = ["Børneattest", "Offentlig straffeattest", "Privat straffeattest"]


def context(*, kind: str = "Offentlig straffeattest", **extra) -> dict:
    unit = SimpleNamespace(name="Nordskolen")
    order = SimpleNamespace(
        full_name="Sofie Holm", unit=unit, start_date=datetime.date(2026, 12, 14)
    )
    line = SimpleNamespace(kind=SimpleNamespace(name=kind), get_status_display="Bestilt")
    return {
        "order": order,
        "line": line,
        "lines": [line],
        "hire": SimpleNamespace(full_name="Sofie Holm", unit=unit, start_date=order.start_date),
        "attempt": SimpleNamespace(unit=unit, attempted_by="Lise Leder"),
        "url": "https://attest.kommune.dk/bestillinger/x/",
        "day": 7,
        "days_left": 7,
        "days": 19,
        "month": "11/2026",
        "source": "SD Løn",
        "error": "Forbindelsen blev afbrudt.",
        "role": "Lønkontoret",
        "user_name": "Lone Løn",
        "proposed_by": "Anna Admin",
        "decided_by": "Bo Admin",
        "MUNICIPALITY_NAME": "Demo Kommune",
        "PORTAL_BASE_URL": "https://attest.kommune.dk",
        **extra,
    }


def rendered(name: str, **extra) -> str:
    with translation.override("da"):
        return render_to_string(f"emails/{name}", context(**extra))


def test_every_email_has_a_subject_of_its_own():
    subjects = {}
    for template in TEMPLATES:
        for variant in ({}, {"decision": "Må ansættes"}, {"group": True}):
            subjects.setdefault(
                " ".join(rendered(f"{template}.subject.txt", **variant).split()), set()
            ).add(template)

    assert all(len(templates) == 1 for templates in subjects.values()), subjects


def test_the_filed_emails_subject_says_whether_it_was_clean_or_assessed():
    clean = rendered("certificate_filed.subject.txt").strip()
    assessed = rendered("certificate_filed.subject.txt", decision="Må ansættes").strip()

    # It used to say only "received", for a certificate that was also judged and filed.
    assert clean == "Offentlig straffeattest til Sofie Holm: ren og journaliseret"
    assert assessed == (
        "Offentlig straffeattest til Sofie Holm: vurderet af lønkontoret og journaliseret"
    )


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_a_kinds_name_is_never_put_after_a_definite_article(kind):
    # "den offentlig straffeattest" is wrong Danish; the kind's name is data in the admin,
    # so the sentences avoid the definite form instead of inflecting it.
    for template in TEMPLATES:
        for part in ("subject.txt", "txt"):
            for variant in ({}, {"decision": "Må ansættes"}):
                text = rendered(f"{template}.{part}", kind=kind, **variant)
                assert not re.search(r"\b(den|det) (offentlig|privat)\b", text, re.I), text


def test_the_decision_email_names_the_kind_in_plain_danish():
    text = rendered("decision.txt", decision="Må ansættes")
    assert "Lønkontoret har vurderet attesten (offentlig straffeattest) til Sofie Holm." in text


def test_no_email_template_holds_an_address_of_its_own():
    for path in EMAILS.glob("*.txt"):
        assert "http" not in path.read_text(), path.name


def test_every_link_in_the_emails_leads_to_the_portals_address(
    settings, school, teacher, school_manager, django_capture_on_commit_callbacks
):
    from orders.answers import record_filed
    from orders.hires import send_hire_reminders
    from portal.roles import propose_role

    settings.PORTAL_BASE_URL = "https://attest.kommune.dk/"
    admin = UserFactory(username="admin1", is_staff=True, is_superuser=True)
    UserFactory(username="loen", is_payroll=True)
    order = order_for(unit=school, profile=teacher, by=school_manager, cpr=make_cpr("120388"))
    hire_awaiting_order(
        unit=school,
        profile=teacher,
        name="Karla Krog",
        start_date=timezone.localdate() + datetime.timedelta(days=5),
    )
    with django_capture_on_commit_callbacks():
        record_filed(line=order.lines.first(), by=school_manager, key="filed:1")
        send_hire_reminders(now=timezone.now())
        propose_role(user=UserFactory(username="ny"), role="payroll", by=admin)

    links = [
        link
        for body in Notification.objects.values_list("body", flat=True)
        for link in re.findall(r"https?://\S+", body)
    ]
    assert len(links) >= 3
    assert all(link.startswith("https://attest.kommune.dk/") for link in links), links
    assert not any("//" in link.removeprefix("https://") for link in links), links


def test_a_portal_moved_to_its_real_address_warns_when_the_links_were_left_behind(settings):
    def warnings():
        return [message.id for message in run_checks() if message.id == "portal.W005"]

    assert warnings() == []  # the laptop's defaults agree with each other

    settings.ALLOWED_HOSTS = ["attest.kommune.dk"]
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    assert warnings() == ["portal.W005"]

    settings.PORTAL_BASE_URL = "https://attest.kommune.dk"
    assert warnings() == []
