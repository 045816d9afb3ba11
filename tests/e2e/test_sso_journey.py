"""A manager logs in through the municipality's provider (a real oidc-provider on
loopback, its own login page) and logs out of both."""

import re

import pytest
from django.utils.translation import gettext
from playwright.sync_api import expect

from portal.models import GroupMapping, Membership, Unit

from ..oidc_provider import portal_settings, start_provider, stop_provider

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = start_provider(tmp_path_factory.mktemp("oidc-e2e") / "accounts.json")
    yield provider
    stop_provider(provider)


def test_a_manager_logs_in_through_the_municipalitys_login_page_and_out_again(
    page, live_server, demo, settings, oidc_provider
):
    portal_settings(settings, oidc_provider)
    school = Unit.objects.get(name="Nordskolen")
    GroupMapping.objects.create(
        group_id="grp-nordskolen-ledere",
        label="Ledere, Nordskolen",
        unit=school,
        membership_role=Membership.Role.MANAGER,
    )
    oidc_provider.set_account(
        "birgitte.sso", groups=["grp-nordskolen-ledere"], name="Birgitte Sørensen"
    )
    # The provider's page asks Google for a font; there is no internet here.
    page.route(
        re.compile(r"https://fonts\.(googleapis|gstatic)\.com/.*"), lambda route: route.abort()
    )

    page.goto(f"{live_server.url}/log-ind/")
    page.get_by_role("link", name=gettext("Log in with the municipality's login")).click()

    expect(page).to_have_url(re.compile(re.escape(oidc_provider.url) + "/interaction/"))
    page.locator("input[name=login]").fill("birgitte.sso")
    page.locator("input[name=password]").fill("whatever")
    page.get_by_role("button", name="Sign-in").click()

    page.wait_for_url(f"{live_server.url}/bestillinger/")
    expect(page.locator("body")).to_contain_text("Birgitte")
    expect(page.get_by_role("link", name="Ny bestilling").first).to_be_visible()

    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url(f"{live_server.url}/log-ind/")
    page.goto(f"{live_server.url}/bestillinger/")
    expect(page).to_have_url(re.compile(r"/log-ind/\?next="))
