"""Every page links to the municipality's accessibility statement (webtilgængelighedsloven)."""

import pytest
from django.conf import settings

from ..factories import MembershipFactory


def statement_links(html: str) -> int:
    return html.count(">Tilgængelighedserklæring</a>")


@pytest.mark.django_db
def test_the_footer_links_to_the_statement_set_for_the_municipality(client, settings):
    settings.ACCESSIBILITY_STATEMENT_URL = "https://www.was.digst.dk/attest-demo-kommune-dk"
    login_page = client.get("/log-ind/").content.decode()
    assert statement_links(login_page) == 1
    assert 'href="https://www.was.digst.dk/attest-demo-kommune-dk"' in login_page

    membership = MembershipFactory()
    client.force_login(membership.user)
    orders = client.get("/bestillinger/").content.decode()
    assert statement_links(orders) == 1
    assert 'href="https://www.was.digst.dk/attest-demo-kommune-dk"' in orders
    not_found = client.get("/findes-ikke/").content.decode()
    assert statement_links(not_found) == 1


def test_without_a_setting_the_link_goes_to_where_statements_are_published():
    assert settings.ACCESSIBILITY_STATEMENT_URL.startswith("https://www.was.digst.dk/")
