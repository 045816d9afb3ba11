"""Without DEBUG, as the demo and production run, a user meets the portal's own Danish
error pages, never Django's English technical pages listing the URL patterns."""

import re

import pytest
from django.conf import settings

from tests.factories import order_for

ROOT = settings.BASE_DIR


def test_another_units_order_shows_the_portals_danish_404(
    client, school_manager, care_manager, care_home, care_helper, settings
):
    settings.DEBUG = False
    order = order_for(unit=care_home, profile=care_helper, by=care_manager)
    client.force_login(school_manager)
    response = client.get(f"/bestillinger/{order.public_id}/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Siden blev ikke fundet" in text
    assert "URLconf" not in text and "Using the URLconf" not in text
    assert "Attestportal" in text  # the portal's layout, with its header


def test_a_page_a_role_may_not_use_shows_the_portals_danish_403(client, payroll, settings):
    settings.DEBUG = False
    client.force_login(payroll)  # payroll is attached to no unit and cannot order
    response = client.get("/bestillinger/ny/")
    assert response.status_code == 403
    assert "Ingen adgang" in response.content.decode()


@pytest.mark.urls("tests.portal.error_urls")
def test_a_failure_shows_the_portals_danish_500(client, school_manager, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(school_manager)
    response = client.get("/fejl/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Noget gik galt" in text
    assert "Traceback" not in text and "RuntimeError" not in text


def test_static_files_are_served_without_debug(client, db, settings):
    settings.DEBUG = False
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert b".site-header" in b"".join(response.streaming_content)


def test_the_demo_runs_without_debug():
    recipe = re.search(r"^run:.*?(?=^\S)", (ROOT / "Makefile").read_text(), re.S | re.M).group()
    assert "runserver" in recipe
    assert "DEBUG=true" not in recipe.replace(" ", "")
