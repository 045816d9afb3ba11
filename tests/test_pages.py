"""Every page type, for every role of the demo, as the server renders it: no id twice
on a page (a label would point at another form's field), every label finds its field,
every form leaves checking to the server (Danish messages, not browser bubbles), and no
link offers what the role cannot do (a link that answers 403 or 404)."""

from collections import Counter, defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from robot.models import Document

from .robot.conftest import sample
from .robot.test_pipeline import receive

ROLES = ["leder.skole", "sekretaer.skole", "leder.aeldre", "loen", "admin"]
# Not pages: files, the admin (Django's own), logging out, links that change state.
SKIP_PREFIXES = ("/admin/", "/static/", "/log-ud/", "/oidc/")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", "/fil/")
PAGES_PER_VIEW = 3


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.label_targets, self.links = [], [], []
        self.forms_validated_by_the_browser = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "form" and "novalidate" not in attrs:
            self.forms_validated_by_the_browser += 1


def view_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


@pytest.fixture
def demo_with_queue(db, settings):
    settings.DEMO_MODE = True
    from robot.demo import load_demo_data

    load_demo_data()
    # Documents in the states payroll meets: unknown, not clean without order, refused.
    for name in ("ukendt_dokument.pdf", "boerneattest_plettet.pdf", "afslag_boerneattest.pdf"):
        receive(name, sample(name))
    receive("boerneattest_ren.eml", sample("boerneattest_ren.eml"))


def crawl(client, start: list[str]):
    """Visit pages breadth-first from `start`, at most a few per view; yield (path, response)."""
    seen, per_view, queue = set(), defaultdict(int), list(start)
    while queue:
        path = queue.pop(0)
        name = view_name(urlsplit(path).path)
        if path in seen or name is None or per_view[name] >= PAGES_PER_VIEW:
            continue
        seen.add(path)
        per_view[name] += 1
        response = client.get(path)
        yield path, response
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            page = Page()
            page.feed(response.content.decode())
            for href in page.links:
                parts = urlsplit(href)
                if parts.netloc or not parts.path.startswith("/") or "#" == href[:1]:
                    continue
                if parts.path.startswith(SKIP_PREFIXES) or parts.path.endswith(SKIP_SUFFIXES):
                    continue
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.mark.parametrize("username", ROLES)
def test_every_page_has_unique_ids_and_offers_only_what_the_role_can_do(
    client, demo_with_queue, username
):
    from portal.models import User

    client.force_login(User.objects.get(username=username))
    start = ["/", "/bestillinger/"]
    if username == "loen":
        start += [f"/modtagelse/dokument/{d.pk}/" for d in Document.objects.order_by("-pk")[:6]]
    problems, visited = [], Counter()
    for path, response in crawl(client, start):
        visited[view_name(urlsplit(path).path)] += 1
        if response.status_code not in (200, 302):
            problems.append(f"{path}: {response.status_code}")
            continue
        if "text/html" not in response.get("Content-Type", "") or response.status_code != 200:
            continue
        page = Page()
        page.feed(response.content.decode())
        twice = [i for i, n in Counter(page.ids).items() if n > 1]
        if twice:
            problems.append(f"{path}: ids used twice: {twice}")
        orphans = set(page.label_targets) - set(page.ids)
        if orphans:
            problems.append(f"{path}: labels for missing fields: {sorted(orphans)}")
        if page.forms_validated_by_the_browser:
            problems.append(f"{path}: a form without novalidate shows browser bubbles")
    assert not problems, "\n".join(problems)
    assert visited["orders:list"] and len(visited) >= 4, visited


def test_the_review_page_of_an_unknown_document_walked_above(client, demo_with_queue):
    """The page the walk must reach: an unrecognised document with both hand-made forms."""
    from portal.models import User

    document = Document.objects.get(original_name="ukendt_dokument.pdf")
    client.force_login(User.objects.get(username="loen"))
    html = client.get(f"/modtagelse/dokument/{document.pk}/").content.decode()
    assert html.count('id="resolve_reason"') == 1 and html.count('id="discard_reason"') == 1
    assert 'for="discard_reason"' in html


def test_an_administrator_without_a_unit_is_not_offered_a_new_order(client, demo_with_queue):
    from orders.models import Order
    from portal.models import User

    Order.objects.all().delete()  # the empty order list offers it too
    client.force_login(User.objects.get(username="admin"))
    html = client.get("/bestillinger/").content.decode()
    assert "/bestillinger/ny/" not in html
    assert "Du er ikke knyttet til en enhed" in html
    client.force_login(User.objects.get(username="leder.skole"))
    assert "/bestillinger/ny/" in client.get("/bestillinger/").content.decode()


def test_empty_lists_say_so(client, db, payroll):
    client.force_login(payroll)
    assert "Ingen filer modtaget endnu." in client.get("/modtagelse/").content.decode()
    assert "Ingen importer endnu." in client.get("/loen/nyansatte/import/").content.decode()
    assert "Intet journaliseret endnu." in client.get("/modtagelse/arkivering/").content.decode()


def test_the_filing_pages_tabs_are_filters_that_keep_the_choice_in_the_address(client, db, payroll):
    from robot.models import FilingJob

    client.force_login(payroll)
    overview = client.get("/modtagelse/arkivering/").content.decode()
    filed = str(FilingJob.State.FILED.label)
    assert f'href="?state={FilingJob.State.FILED}"' in overview
    html = client.get("/modtagelse/arkivering/", {"state": FilingJob.State.FILED}).content.decode()
    assert f'<a href="?state={FilingJob.State.FILED}" aria-current="page">{filed}' in html
    assert f'<h2 id="state-title">{filed}</h2>' in html


def test_the_review_page_gives_the_pdf_the_room_and_no_thumbnails(client, demo_with_queue):
    from portal.models import User

    document = Document.objects.get(original_name="ukendt_dokument.pdf")
    client.force_login(User.objects.get(username="loen"))
    html = client.get(f"/modtagelse/dokument/{document.pk}/").content.decode()
    assert "#navpanes=0" in html
