"""Job codes decide which new hires are prompted for an order: a change is on record."""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from orders.models import JobCode


def test_a_job_code_mapped_to_a_position_in_the_admin_is_recorded_with_who_and_before_after(
    client, admin_user, school_area, teacher
):
    code = JobCode.objects.create(area=school_area, code="5120", title="Lærer")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:orders_jobcode_change", args=[code.pk]),
        {"area": school_area.pk, "code": "5120", "title": "Lærer", "profile": teacher.pk},
    )

    assert response.status_code == 302
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(JobCode),
        object_pk=str(code.pk),
        action=LogEntry.Action.UPDATE,
    )
    assert entry.actor == admin_user
    assert entry.changes_dict["profile"] == ["None", str(teacher.pk)]
