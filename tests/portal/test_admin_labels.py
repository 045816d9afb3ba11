"""Every input in the admin has an accessible name, also where Django draws none."""

import re

import pytest
from django.contrib import admin

from portal.admin_labels import LabelledTabularInline

from ..factories import MembershipFactory, UnitFactory, UserFactory


def test_every_tabular_inline_names_its_fields():
    plain = [
        f"{model_admin.__class__.__name__}.{inline.__name__}"
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
        if issubclass(inline, admin.TabularInline) and not issubclass(inline, LabelledTabularInline)
    ]
    assert not plain, f"tabular inlines without labels on their inputs: {plain}"


@pytest.mark.django_db
def test_a_units_change_form_labels_date_time_and_every_inline_input(client):
    unit = UnitFactory()
    MembershipFactory(unit=unit)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(f"/admin/portal/unit/{unit.pk}/change/").content.decode()

    assert re.search(r'<label class="visually-hidden" for="id_closed_at_0">', html)
    assert re.search(r'<label class="visually-hidden" for="id_closed_at_1">', html)
    for row in (0, 1):  # the saved membership and the empty row to add one
        select = re.search(rf'<select name="memberships-{row}-user"[^>]*>', html).group(0)
        assert 'aria-label="' in select, select
    delete = re.search(r'<input type="checkbox" name="memberships-0-DELETE"[^>]*>', html)
    assert 'aria-label="' in delete.group(0)
