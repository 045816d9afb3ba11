"""Certificates, decisions and who is being hired are payroll's business: the Django admin
shows administrators none of it, on any page."""

from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from orders.models import Notification
from portal.admin import DeletionWithoutPersonalData

from ..factories import make_cpr, order_for

HIDDEN = "Ikke vist: den handler om en person"


def test_an_e_mail_about_a_decision_is_listed_without_its_subject_or_text(
    client, admin_user, school, teacher, school_manager
):
    order = order_for(
        unit=school, profile=teacher, by=school_manager, name="Ane Hansen", cpr=make_cpr("150385")
    )
    notification = Notification.objects.create(
        template="decision",
        key=f"decision:{order.pk}",
        to="leder@kommune.example",
        subject="Lønnens afgørelse om attesten for Ane Hansen",
        body="Afgørelse: Kan ikke ansættes.",
        order=order,
    )
    client.force_login(admin_user)

    listing = client.get(reverse("admin:orders_notification_changelist")).content.decode()
    page = client.get(
        reverse("admin:orders_notification_change", args=[notification.pk])
    ).content.decode()

    for shown in (listing, page):
        assert "Ane Hansen" not in shown and "Kan ikke ansættes" not in shown
        assert "150385" not in shown
        assert HIDDEN in shown and "leder@kommune.example" in shown


def test_an_operational_e_mail_is_shown_in_full(client, admin_user):
    notification = Notification.objects.create(
        template="sd_poll_failed",
        key="sd:1",
        to="it@kommune.example",
        subject="Nye ansættelser fra SD Løn kunne ikke hentes",
        body="SD Løn svarede ikke.",
    )
    client.force_login(admin_user)

    page = client.get(reverse("admin:orders_notification_change", args=[notification.pk]))

    assert "SD Løn svarede ikke." in page.content.decode()


def test_deleting_a_unit_lists_its_orders_without_name_or_birth_date(
    client, admin_user, school, teacher, school_manager
):
    order_for(
        unit=school, profile=teacher, by=school_manager, name="Ane Hansen", cpr=make_cpr("150385")
    )
    client.force_login(admin_user)

    single = client.get(reverse("admin:portal_unit_delete", args=[school.pk])).content.decode()
    bulk = client.post(
        reverse("admin:portal_unit_changelist"),
        {"action": "delete_selected", "_selected_action": [school.pk]},
    ).content.decode()
    profile = client.get(
        reverse("admin:orders_positionprofile_delete", args=[teacher.pk])
    ).content.decode()

    for page in (single, bulk, profile):
        assert "Bestilling: " in page  # the order is there, by its number
        assert "Ane Hansen" not in page and "150385" not in page


def test_every_admin_page_of_the_portals_apps_deletes_without_personal_data():
    plain = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in {"portal", "orders", "robot"}
        and admin.site.is_registered(model)
        and not isinstance(admin.site.get_model_admin(model), DeletionWithoutPersonalData)
    ]
    assert plain == []


def test_administrators_fix_unread_hires_by_employment_id_without_the_hires_name(
    client, admin_user
):
    from orders.models import UnreadHire

    UnreadHire.objects.create(
        employment_id="E-4711",
        full_name="Hemmelig Hansen",
        unit="SKOLE9",
        reason="Afdelingen SKOLE9 kendes ikke.",
    )
    client.force_login(admin_user)

    page = client.get("/admin/orders/unreadhire/").content.decode()

    assert "E-4711" in page and "Hemmelig Hansen" not in page
