"""The admin speaks Danish throughout: every page an administrator can open, for every
registered model, shows no English words."""

import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone, translation

from orders.models import HireColumns, JobCode, Notification, Order
from portal.models import GroupMapping, RoleGrant, Unit, User, WelcomeSection
from portal.third_party_texts import AUDITLOG, AXES
from robot.demo import load_demo_data
from robot.models import RuleSet

# Words that give English away on a Danish page; none of them is a Danish word as written.
TELL_TALES = [
    " object (",
    "Created at",
    "Activated at",
    "Send again",
    "Access attempt",
    "Access log",
    "Log entries",
    "Log entry",
    "Add ",
    "Change ",
    "Delete",
    "Save and",
    "History",
    "Filter",
    "Search",
]
ENGLISH_WORDS = re.compile(
    r"\b(the|and|of|with|from|none|yes|object|created|updated|sent|activated|attempts?|"
    r"access|failures?|entries|entry|changes?|action|actor|resource|timestamp|address|"
    r"agent|username|template|state|subject|body|error|recipients?|key|role|source|"
    r"grants|payroll|order|unit|area|name|code|kind|active|title|topic|user|users|"
    r"date|select|correlation|additional|path|remote|unknown|never|proposed|decided)\b",
    re.IGNORECASE,
)


class VisibleText(HTMLParser):
    """What a person sees: text outside scripts and styles, and the words on buttons."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template", "textarea"):
            self._skip += 1
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            self.parts.append(attrs.get("value") or "")
        for attribute in ("title", "placeholder", "aria-label"):
            if attrs.get(attribute):
                self.parts.append(attrs[attribute])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "textarea"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_in(text: str, data: set[str]) -> list[str]:
    for value in data:
        text = text.replace(value, " ")
    found = [tale.strip() for tale in TELL_TALES if tale in text]
    for match in ENGLISH_WORDS.finditer(text):
        word = match.group(0)
        line = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " | ")
        found.append(f"{word!r} in …{line}…")
    return found


@pytest.fixture
def everything(db, admin_user):
    """At least one row of every model in the admin, as the demo and daily use leave them."""
    load_demo_data(with_orders=True)
    order = Order.objects.first()
    Notification.objects.create(
        template="decision",
        key="test:1",
        to="leder@demo.example",
        subject="Attest vurderet",
        body="Se bestillingen.",
        order=order,
        state=Notification.State.FAILED,
        last_error="Forbindelsen blev afvist",
    )
    loen = User.objects.get(username="loen")
    other = User.objects.get(username="leder.skole")
    RoleGrant.objects.create(user=other, role=RoleGrant.Role.PAYROLL, proposed_by=loen)
    GroupMapping.objects.create(
        group_id="0b1c",
        label="Ledere, Nordskolen",
        unit=Unit.objects.first(),
        membership_role="manager",
    )
    JobCode.objects.create(area=Unit.objects.first().area, code="1234", title="Lærer")
    HireColumns.objects.create()
    AccessAttempt.objects.create(
        username="ukendt",
        ip_address="10.0.0.1",
        user_agent="Firefox",
        path_info="/log-ind/",
        http_accept="text/html",
        failures_since_start=3,
    )
    AxesAccessLog.objects.create(
        username="loen",
        ip_address="10.0.0.2",
        user_agent="Firefox",
        path_info="/log-ind/",
        http_accept="text/html",
        attempt_time=timezone.now(),
    )
    AccessFailureLog.objects.create(
        username="ukendt",
        ip_address="10.0.0.1",
        user_agent="Firefox",
        path_info="/log-ind/",
        http_accept="text/html",
        locked_out=False,
    )
    copy_active = RuleSet.objects.get(is_active=True)
    RuleSet.objects.create(version=copy_active.version + 1, note="Kladde")
    return admin_user


def admin_pages(client):
    """Every changelist, add form and change form the admin offers a superuser."""
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        yield reverse("admin:{}_{}_changelist".format(*info))
        if model_admin.has_add_permission(_request(client)):
            yield reverse("admin:{}_{}_add".format(*info))
        for obj in model._default_manager.all()[:1]:
            yield reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            yield reverse("admin:{}_{}_history".format(*info), args=[obj.pk])
            if model_admin.has_delete_permission(_request(client), obj):
                yield reverse("admin:{}_{}_delete".format(*info), args=[obj.pk])


def _request(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="admin")
    return request


def test_every_admin_page_is_danish(client, everything):
    admin_user = User.objects.get(username="admin")
    client.force_login(admin_user)
    # Names of people, units and e-mail addresses are data, not interface text.
    data = {
        *User.objects.values_list("username", flat=True),
        *User.objects.values_list("email", flat=True),
        "Firefox",
        "text/html",
        "<unknown>",  # axes' value for a header the test client's login did not send
    }
    pages = [reverse("admin:index"), *admin_pages(client)]
    problems: dict[str, str] = {}  # each English finding once, with the first page showing it
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for found in english_in(visible_text(response.content.decode()), data):
            problems.setdefault(found, url)
    assert not problems, "\n".join(f"{url}: {found}" for found, url in problems.items())
    assert len(pages) > 40


def test_every_admin_action_and_its_message_is_danish(client, everything, mailoutbox):
    """Each action of each model, run on one row: the page it leads to and its messages."""
    admin_user = User.objects.get(username="admin")
    client.force_login(admin_user)
    data = {*User.objects.values_list("username", flat=True), "<unknown>", "Firefox"}
    problems: dict[str, str] = {}
    ran = 0
    request = _request(client)
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        first = model._default_manager.exclude(pk=admin_user.pk).first()
        if first is None:
            continue
        for name in model_admin.get_actions(request):
            response = client.post(
                changelist,
                {"action": name, "_selected_action": [first.pk]},
                follow=True,
            )
            assert response.status_code == 200, (changelist, name)
            ran += 1
            if not response["Content-Type"].startswith("text/html"):
                continue  # the CSV export
            for found in english_in(visible_text(response.content.decode()), data):
                problems.setdefault(found, f"{changelist} {name}")
    assert not problems, "\n".join(f"{where}: {found}" for found, where in problems.items())
    assert ran > 15


def test_a_notification_is_named_by_its_kind_and_recipient_not_its_subject(everything):
    notification = Notification.objects.get(key="test:1")

    # The subject names the hire; the admin is no place for it.
    assert str(notification) == f"{notification.template_label} → leder@demo.example"
    assert "Attest vurderet" not in str(notification)


def test_the_welcome_pack_sections_are_edited_in_the_admin_and_recorded(client, everything):
    from auditlog.models import LogEntry

    admin_user = User.objects.get(username="admin")
    client.force_login(admin_user)
    section = WelcomeSection.objects.filter(area__isnull=True).first()

    response = client.post(
        reverse("admin:portal_welcomesection_change", args=[section.pk]),
        {
            "area": "",
            "topic": section.topic,
            "title": "Opgaven kort fortalt",
            "body": section.body,
            "sort_order": section.sort_order,
        },
    )

    assert response.status_code == 302
    section.refresh_from_db()
    assert section.title == "Opgaven kort fortalt"
    entry = LogEntry.objects.get_for_object(section).latest("timestamp")
    assert entry.actor == admin_user
    assert entry.changes_dict["title"][1] == "Opgaven kort fortalt"
    page = client.get(reverse("welcome"))
    assert "Opgaven kort fortalt" in page.content.decode()


def test_sending_an_email_again_says_so_in_danish(client, everything, mailoutbox):
    client.force_login(User.objects.get(username="admin"))
    notification = Notification.objects.get(key="test:1")

    response = client.post(
        reverse("admin:orders_notification_changelist"),
        {"action": "retry", "_selected_action": [notification.pk]},
        follow=True,
    )

    notification.refresh_from_db()
    assert notification.state == Notification.State.SENT
    assert "1 e-mail er forsøgt sendt igen" in response.content.decode()


def test_the_lockout_list_names_attempts_in_danish(client, everything):
    client.force_login(User.objects.get(username="admin"))

    page = client.get(reverse("admin:portal_loginattempt_changelist")).content.decode()

    assert "ukendt fra 10.0.0.1, 3 mislykkede" in page
    assert "2 forsøg tilbage" in page


def test_every_text_of_axes_and_auditlog_has_danish_in_our_catalogue():
    """Their admins are Danish through our catalogue alone; a listed text without Danish
    would show in English."""
    with translation.override("da"):
        english = [text for text in AXES + AUDITLOG if translation.gettext(text) == text]

    assert english == []
