"""New hires from the HR system: import (dry run, apply), prompts, reminders, compliance."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from openpyxl import Workbook

from orders import hires
from orders.deadlines import process_deadlines
from orders.hires import SourceError
from orders.models import AccessLog, Hire, HireImport, JobCode, Notification, Order, OrderLine
from portal.cpr import hash_cpr
from portal.models import Unit

from ..factories import UserFactory, make_cpr, order_for


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in the source language, whatever translation is shipped."""
    with translation.override("en"):
        yield


HEADER = "Ansættelsesnummer;Navn;CPR-nummer;Afdeling;Startdato;Stillingskode;Status"


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def csv_file(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def row(
    emp="", name="Anna Hansen", cpr=None, unit="SKOLE1", start=None, code="1234", status=""
) -> str:
    start = start or in_days(20)
    return ";".join([emp, name, cpr or make_cpr(), unit, start.strftime("%d.%m.%Y"), code, status])


@pytest.fixture
def hr_setup(school, teacher, care_home, care_area, school_area):
    school.external_id = "SKOLE1"
    school.save()
    care_home.external_id = "PLEJE1"
    care_home.save()
    JobCode.objects.create(area=school_area, code="1234", title="Lærer", profile=teacher)
    JobCode.objects.create(area=school_area, code="9000", title="Pedel", profile=None)
    return school


def import_file(data: bytes, user, filename="nyansatte.csv") -> HireImport:
    return hires.start_file_import(data=data, filename=filename, by=user)


def test_dry_run_applies_nothing_and_apply_creates_the_hires(hr_setup, payroll):
    hire_import = import_file(
        csv_file(row(emp="E1"), row(emp="E2", code="9000"), row(emp="E3", code="7777")), payroll
    )

    assert hire_import.state == HireImport.State.DRY_RUN
    assert hire_import.summary["new"] == 3
    assert Hire.objects.count() == 0

    hires.apply_hire_import(hire_import=hire_import, by=payroll)

    statuses = dict(Hire.objects.values_list("source_key", "status"))
    assert statuses == {
        "emp:E1": Hire.Status.AWAITING_ORDER,
        "emp:E2": Hire.Status.NONE_REQUIRED,
        "emp:E3": Hire.Status.UNMAPPED,
    }
    hire_import.refresh_from_db()
    assert hire_import.payload_encrypted == ""  # the CPR numbers live only on the persons


def test_the_cpr_number_is_stored_like_an_orders(hr_setup, payroll):
    cpr = make_cpr("050585")
    hires.apply_hire_import(hire_import=import_file(csv_file(row(cpr=cpr)), payroll), by=payroll)
    hire = Hire.objects.get()
    assert hire.person.cpr_hash == hash_cpr(cpr)
    assert cpr not in hire.source_key and cpr not in hire.person.cpr_encrypted
    assert str(hire).endswith("(050585-xxxx)")


def test_xlsx_with_bad_rows_lists_them_by_row_and_imports_nothing(hr_setup, payroll):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append(["E1", "Anna Hansen", 101901234, "SKOLE1", in_days(20), 1234, ""])
    sheet.append(["E2", "Bo Berg", "123", "SKOLE1", in_days(20), 1234, ""])
    sheet.append(["E3", "Carl Dam", make_cpr(), "UKENDT", in_days(20), 1234, ""])
    sheet.append(["E4", "Dorte Ek", make_cpr(), "SKOLE1", "i morgen", 1234, ""])
    buffer = io.BytesIO()
    workbook.save(buffer)

    hire_import = import_file(buffer.getvalue(), payroll, filename="nyansatte.xlsx")

    rows = [error["message"] for error in hire_import.summary["errors"]]
    assert [message.split(":")[0] for message in rows] == ["Row 3", "Row 4", "Row 5"]
    assert "UKENDT" in rows[1]
    assert hire_import.summary["new"] == 1  # 0101901234 came as a number from Excel
    with pytest.raises(hires.HireError):
        hires.apply_hire_import(hire_import=hire_import, by=payroll)
    assert Hire.objects.count() == 0


def test_a_file_without_the_mapped_columns_is_refused(hr_setup, payroll):
    with pytest.raises(SourceError):
        import_file(b"Foo;Bar\n1;2\n", payroll)


def test_the_same_hire_twice_is_one_hire(hr_setup, payroll):
    cpr = make_cpr()
    data = csv_file(row(cpr=cpr), row(cpr=cpr))  # no employment id: CPR + start date
    first = import_file(data, payroll)
    assert first.summary["duplicates"] == 1
    hires.apply_hire_import(hire_import=first, by=payroll)
    again = import_file(data, payroll)
    assert again.summary["new"] == 0 and again.summary["unchanged"] == 1
    hires.apply_hire_import(hire_import=again, by=payroll)
    assert Hire.objects.count() == 1


def test_withdrawn_hire_withdraws_the_prompt_and_tells_the_manager_of_an_order(
    hr_setup, payroll, school_manager, teacher
):
    cpr = make_cpr()
    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", cpr=cpr)), payroll), by=payroll
    )
    hire = Hire.objects.get()
    order = order_for(unit=hr_setup, profile=teacher, by=school_manager, cpr=cpr)
    hires.link_order(hire=hire, order=order, by=school_manager)

    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", cpr=cpr, status="Annulleret")), payroll),
        by=payroll,
    )

    hire.refresh_from_db()
    assert hire.status == Hire.Status.WITHDRAWN
    # The e-mail is recorded with the change and sent by a worker (a real broker in CI).
    notice = Notification.objects.get(template="hire_withdrawn")
    assert notice.to == school_manager.email and "Anna Hansen" in notice.subject
    assert cpr not in notice.body and cpr[:6] not in notice.body


@pytest.fixture
def awaiting_hire(hr_setup, payroll):
    hires.apply_hire_import(hire_import=import_file(csv_file(row(emp="E1")), payroll), by=payroll)
    return Hire.objects.get()


def test_manager_sees_the_prompt_and_another_unit_does_not(
    client, awaiting_hire, school_manager, care_manager
):
    client.force_login(school_manager)
    response = client.get(reverse("orders:list"))
    assert "Anna Hansen" in response.content.decode()
    assert AccessLog.objects.filter(
        user=school_manager, action=AccessLog.Action.LIST_HIRES
    ).exists()

    client.force_login(care_manager)
    assert "Anna Hansen" not in client.get(reverse("orders:list")).content.decode()
    url = reverse("orders:hire_order", kwargs={"public_id": awaiting_hire.public_id})
    assert client.get(url).status_code == 404


def test_the_prefilled_order_is_sent_without_retyping(
    client, awaiting_hire, school_manager, teacher
):
    client.force_login(school_manager)
    url = reverse("orders:hire_order", kwargs={"public_id": awaiting_hire.public_id})
    page = client.get(url)
    form = page.context["form"]
    content = page.content.decode()
    assert awaiting_hire.person.cpr not in content  # shown masked only
    assert awaiting_hire.person.cpr_masked in content
    assert f'value="{awaiting_hire.start_date.isoformat()}"' in content  # <input type=date>

    response = client.post(
        url,
        {
            "submission_token": form.initial["submission_token"],
            "full_name": "Anna Hansen",
            "start_date": awaiting_hire.start_date.isoformat(),
            "profile": teacher.pk,
            "child_contact": "yes",
        },
    )

    assert response.status_code == 302
    awaiting_hire.refresh_from_db()
    assert awaiting_hire.status == Hire.Status.ORDERED
    assert awaiting_hire.order.person_id == awaiting_hire.person_id
    assert awaiting_hire.order.lines.count() == 2


def test_manager_marks_not_needed_with_a_reason(client, awaiting_hire, school_manager):
    client.force_login(school_manager)
    url = reverse("orders:hire_not_needed", kwargs={"public_id": awaiting_hire.public_id})
    client.post(url, {"reason": ""})
    awaiting_hire.refresh_from_db()
    assert awaiting_hire.status == Hire.Status.AWAITING_ORDER

    client.post(url, {"reason": "Vikar uden børnekontakt"})

    awaiting_hire.refresh_from_db()
    assert awaiting_hire.status == Hire.Status.NOT_NEEDED
    assert awaiting_hire.not_needed_reason == "Vikar uden børnekontakt"
    rows = hires.compliance_list(today=awaiting_hire.start_date)
    assert rows[0].reasons == [
        "Lederen har markeret den som ikke nødvendig: Vikar uden børnekontakt"
    ]


def test_reminder_goes_out_once_n_days_before_the_start(settings, awaiting_hire, school_manager):
    settings.HIRE_REMINDER_DAYS = 10
    assert process_deadlines().hire_reminders == 0  # starts in 20 days

    later = timezone.now() + datetime.timedelta(days=11)
    assert process_deadlines(now=later).hire_reminders == 1
    assert process_deadlines(now=later).hire_reminders == 0
    notification = Notification.objects.get(template="hire_reminder")
    assert notification.to == school_manager.email
    assert awaiting_hire.person.cpr[6:] not in notification.body


def test_a_job_code_mapped_later_turns_the_hire_into_a_prompt(
    hr_setup, payroll, school_area, teacher
):
    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(code="5555")), payroll), by=payroll
    )
    JobCode.objects.create(area=school_area, code="5555", profile=teacher)
    assert hires.reevaluate_open_hires() == 1
    assert Hire.objects.get().status == Hire.Status.AWAITING_ORDER


def test_compliance_list_shows_why(hr_setup, payroll, school_manager, teacher):
    cprs = [make_cpr() for _ in range(4)]
    data = csv_file(
        row(emp="A", name="Ikke Bestilt", cpr=cprs[0], start=in_days(3)),
        row(emp="B", name="Bestilt Endnu", cpr=cprs[1], start=in_days(-2)),
        row(emp="C", name="Langt Ude", cpr=cprs[2], start=in_days(30)),
        row(emp="D", name="Ukendt Kode", cpr=cprs[3], start=in_days(1), code="4242"),
    )
    hires.apply_hire_import(hire_import=import_file(data, payroll), by=payroll)
    order = order_for(unit=hr_setup, profile=teacher, by=school_manager, cpr=cprs[1])
    hires.link_order(hire=Hire.objects.get(source_key="emp:B"), order=order, by=school_manager)
    line = order.lines.get(kind__code="child")
    line.status = OrderLine.Status.CLEARED
    line.save()

    rows = {r.hire.full_name: r.reasons for r in hires.compliance_list()}

    assert set(rows) == {"Ikke Bestilt", "Bestilt Endnu", "Ukendt Kode"}
    assert rows["Ikke Bestilt"] == ["Nothing has been ordered."]
    criminal = order.lines.get(kind__code="criminal_public")
    assert rows["Bestilt Endnu"] == [
        f"{criminal.kind.name}: {criminal.get_status_display().lower()}."
    ]
    assert "4242" in rows["Ukendt Kode"][0]


def test_compliance_page_is_payrolls_and_does_not_grow_queries(
    client, hr_setup, payroll, django_assert_max_num_queries
):
    data = csv_file(*[row(emp=f"E{i}", start=in_days(2)) for i in range(30)])
    hires.apply_hire_import(hire_import=import_file(data, payroll), by=payroll)
    client.force_login(payroll)
    # Two more than before the groups of hires without a position and of orders placed
    # without the HR system: still a fixed number.
    with django_assert_max_num_queries(17):
        response = client.get(reverse("payroll:hire_compliance"))
    with translation.override("da"):  # the page speaks the portal's language
        expected = escape(translation.gettext("Nothing has been ordered."))
    assert response.content.decode().count(expected) == 30


def test_upload_dry_run_then_apply_through_the_pages(client, hr_setup, payroll):
    client.force_login(payroll)
    upload = io.BytesIO(csv_file(row(emp="E1")))
    upload.name = "nyansatte.csv"
    response = client.post(reverse("payroll:hire_imports"), {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Anna Hansen" in page.content.decode() and Hire.objects.count() == 0
    hire_import = HireImport.objects.get()
    client.post(reverse("payroll:hire_import_apply", kwargs={"public_id": hire_import.public_id}))
    assert Hire.objects.count() == 1


def test_planning_a_large_file_takes_a_fixed_number_of_queries(
    hr_setup, payroll, django_assert_max_num_queries
):
    data = csv_file(*[row(emp=f"E{i}") for i in range(300)])
    with django_assert_max_num_queries(8):
        hire_import = import_file(data, payroll)
    with django_assert_max_num_queries(30):
        hires.apply_hire_import(hire_import=hire_import, by=payroll)
    assert Hire.objects.count() == 300


def test_closed_unit_open_lines_are_shown_to_payroll(hr_setup, payroll, school_manager, teacher):
    order_for(unit=hr_setup, profile=teacher, by=school_manager)
    Unit.objects.filter(pk=hr_setup.pk).update(is_active=False)
    assert hires.open_lines_in_closed_units().count() == 2


def test_a_job_change_into_a_position_needing_a_new_certificate_prompts_again(
    hr_setup, payroll, school_manager, school_area, school_secretary, teacher
):
    JobCode.objects.create(area=school_area, code="SEK", profile=school_secretary)
    cpr = make_cpr()
    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", cpr=cpr, code="SEK")), payroll), by=payroll
    )
    hire = Hire.objects.get()
    hires.mark_not_needed(hire=hire, by=school_manager, reason="Ingen børnekontakt")

    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", cpr=cpr, code="1234")), payroll), by=payroll
    )

    hire.refresh_from_db()
    assert (hire.status, hire.profile) == (Hire.Status.AWAITING_ORDER, teacher)


def test_a_job_change_the_person_already_holds_certificates_for_does_not_prompt(
    hr_setup, payroll, school_manager, teacher
):
    cpr = make_cpr()
    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", cpr=cpr)), payroll), by=payroll
    )
    hire = Hire.objects.get()
    order = order_for(unit=hr_setup, profile=teacher, by=school_manager, cpr=cpr)
    hires.link_order(hire=hire, order=order, by=school_manager)
    JobCode.objects.create(area=hr_setup.area, code="1235", profile=teacher)

    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", cpr=cpr, code="1235")), payroll), by=payroll
    )

    hire.refresh_from_db()
    assert hire.status == Hire.Status.ORDERED


def test_a_dry_run_left_for_a_day_is_discarded_with_its_cpr_numbers(hr_setup, payroll):
    hire_import = import_file(csv_file(row()), payroll)
    process_deadlines(now=timezone.now() + datetime.timedelta(days=2))
    hire_import.refresh_from_db()
    assert (hire_import.state, hire_import.payload_encrypted) == (HireImport.State.DISCARDED, "")


# --- What a new user tripped over: hires with a job code no position is mapped to ----


def upload(client, data: bytes, filename="nyansatte.csv"):
    file = io.BytesIO(data)
    file.name = filename
    return client.post(reverse("payroll:hire_imports"), {"file": file})


def test_the_dry_run_warns_of_job_codes_without_a_position_and_says_whom_to_ask(
    client, hr_setup, payroll, school_area
):
    UserFactory(
        username="ida",
        first_name="Ida",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
        email="ida@kommune.example",
    )
    data = csv_file(row(emp="E1", code="7777"), row(emp="E2", code="7777"), row(emp="E3"))
    client.force_login(payroll)

    page = client.get(upload(client, data)["Location"]).content.decode()

    summary = HireImport.objects.get().summary
    assert [(u["code"], u["count"]) for u in summary["unmapped"]] == [("7777", 2)]
    assert summary["unmapped_total"] == 2
    assert "2 nyansatte har en stillingskode uden stilling" in page  # the page is Danish
    assert f"Stillingskode 7777 ({school_area.name}): 2 nyansatte" in page
    # Payroll cannot open the admin: told whom to ask, not sent there.
    assert "Ida Admin (ida@kommune.example)" in page
    assert reverse("admin:orders_jobcode_changelist") not in page


def test_the_applied_import_says_how_many_hires_have_no_position_and_links_administrators(
    client, hr_setup, payroll, admin_user
):
    hire_import = import_file(csv_file(row(emp="E1", code="7777"), row(emp="E2")), payroll)
    hires.apply_hire_import(hire_import=hire_import, by=payroll)
    admin_user.is_payroll = True
    admin_user.save()
    client.force_login(admin_user)

    page = client.get(
        reverse("payroll:hire_import", kwargs={"public_id": hire_import.public_id})
    ).content.decode()

    assert "1 nyansat har endnu ingen stilling" in page
    assert reverse("admin:orders_jobcode_changelist") in page


def test_hires_without_a_position_are_their_own_group_on_new_hires_whatever_the_start(
    client, hr_setup, payroll
):
    data = csv_file(
        row(emp="E1", name="Fjern Start", code="7777", start=in_days(120)),
        row(emp="E2", name="Snart Start", start=in_days(3)),
    )
    hires.apply_hire_import(hire_import=import_file(data, payroll), by=payroll)
    client.force_login(payroll)

    response = client.get(reverse("payroll:hire_compliance"))

    assert [h.full_name for h in response.context["unmapped"]] == ["Fjern Start"]
    assert [r.hire.full_name for r in response.context["rows"]] == ["Snart Start"]
    assert "Stillingskode ikke tilknyttet" in response.content.decode()
    logged = AccessLog.objects.filter(user=payroll, action=AccessLog.Action.LIST_HIRES)
    assert logged.filter(person=Hire.objects.get(source_key="emp:E1").person).exists()


def test_mapping_a_job_code_in_the_admin_prompts_the_manager_at_once(
    client, hr_setup, payroll, admin_user, school_area, school_manager, teacher
):
    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", code="5555")), payroll), by=payroll
    )
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:orders_jobcode_add"),
        {"area": school_area.pk, "code": "5555", "title": "Lærer", "profile": teacher.pk},
    )

    assert response.status_code == 302
    assert Hire.objects.get().status == Hire.Status.AWAITING_ORDER
    client.force_login(school_manager)
    assert "Anna Hansen" in client.get(reverse("orders:list")).content.decode()


def test_changing_a_mapping_in_the_admins_list_looks_at_its_hires_again(
    client, hr_setup, payroll, admin_user, school_area, teacher
):
    job_code = JobCode.objects.get(code="9000")  # mapped to no position
    hires.apply_hire_import(
        hire_import=import_file(csv_file(row(emp="E1", code="9000")), payroll), by=payroll
    )
    assert Hire.objects.get().status == Hire.Status.NONE_REQUIRED
    client.force_login(admin_user)

    client.post(
        reverse("admin:orders_jobcode_changelist") + f"?area__id__exact={school_area.pk}&q=9000",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": job_code.pk,
            "form-0-profile": teacher.pk,
            "_save": "Save",
        },
    )

    assert Hire.objects.get().status == Hire.Status.AWAITING_ORDER


def test_the_same_file_again_after_mapping_looks_at_the_hires_again(
    hr_setup, payroll, school_area, teacher
):
    data = csv_file(row(emp="E1", code="5555"))
    hires.apply_hire_import(hire_import=import_file(data, payroll), by=payroll)
    JobCode.objects.create(area=school_area, code="5555", profile=teacher)

    again = import_file(data, payroll)

    assert (again.summary["unchanged"], again.summary["changed"]) == (0, 1)
    assert again.summary["remapped"] == 1 and again.summary["unmapped"] == []
    hires.apply_hire_import(hire_import=again, by=payroll)
    assert Hire.objects.get().status == Hire.Status.AWAITING_ORDER
    assert import_file(data, payroll).summary["unchanged"] == 1  # now nothing to do


def test_new_hires_flags_a_hire_without_an_order_three_weeks_ahead(hr_setup, payroll):
    # An answer takes a median 13.4 days: a week's warning came too late.
    data = csv_file(row(emp="E1", name="Om To Uger", start=in_days(15)))
    hires.apply_hire_import(hire_import=import_file(data, payroll), by=payroll)

    assert [r.hire.full_name for r in hires.compliance_list()] == ["Om To Uger"]


# --- The import page --------------------------------------------------------------


def test_the_import_page_names_the_columns_and_offers_an_example_file(client, hr_setup, payroll):
    client.force_login(payroll)
    page = client.get(reverse("payroll:hire_imports")).content.decode()

    for name in ("Ansættelsesnummer", "Navn", "CPR-nummer", "Afdeling", "Startdato"):
        assert f"<code>{name}</code>" in page
    url = reverse("payroll:hire_import_example")
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response["Content-Disposition"] == 'attachment; filename="nyansatte-eksempel.csv"'
    example = response.content
    # The example is a file the import reads: payroll can start from it.
    hire_import = import_file(example, payroll, filename="eksempel.csv")
    assert hire_import.summary["errors"] == [] and hire_import.summary["new"] == 1


def test_a_file_without_the_columns_says_whom_to_ask_not_to_check_the_admin(
    client, hr_setup, payroll
):
    UserFactory(
        username="ida",
        first_name="Ida",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
        email="ida@kommune.example",
    )
    client.force_login(payroll)

    response = upload(client, b"Navn;CPR\nAnna Hansen;0101901234\n")

    error = response.context["form"].errors["file"][0]
    assert "Ida Admin (ida@kommune.example)" in error
    assert "Startdato" in error and "administration" not in error


def test_rows_with_errors_say_why_there_is_no_import_button(client, hr_setup, payroll):
    client.force_login(payroll)
    page = client.get(upload(client, csv_file(row(unit="UKENDT")))["Location"]).content
    page = page.decode()
    assert "Der kan ikke importeres noget, så længe filen har rækker med fejl" in page
    assert ">Importér</button>" not in page


def test_every_error_of_a_row_is_shown(hr_setup, payroll):
    hire_import = import_file(csv_file(row(cpr="123", unit="UKENDT", name="")), payroll)
    [error] = hire_import.summary["errors"]
    assert "CPR number" in error["message"]
    assert "UKENDT" in error["message"]
    assert "name is missing" in error["message"]


def test_start_dates_are_shown_the_danish_way(client, hr_setup, payroll):
    client.force_login(payroll)
    page = client.get(upload(client, csv_file(row(start=in_days(20))))["Location"])
    content = page.content.decode()
    assert in_days(20).strftime("%d.%m.%Y") in content
    assert in_days(20).isoformat() not in content


def test_a_withdrawn_row_counts_as_withdrawn_not_unchanged(hr_setup, payroll):
    withdrawn = csv_file(row(emp="E1", status="Annulleret"), row(emp="E2", status="Fratrådt"))
    first = import_file(withdrawn, payroll)  # never seen before
    assert (first.summary["withdrawn"], first.summary["unchanged"]) == (2, 0)
    hires.apply_hire_import(hire_import=import_file(csv_file(row(emp="E1")), payroll), by=payroll)
    hires.apply_hire_import(hire_import=import_file(withdrawn, payroll), by=payroll)
    again = import_file(withdrawn, payroll)  # already withdrawn
    assert (again.summary["withdrawn"], again.summary["unchanged"]) == (2, 0)


# --- The order list's badge and "New hires" agree ----------------------------------


def test_the_order_list_and_new_hires_flag_the_same_hand_placed_orders(
    client, hr_setup, payroll, school_manager, teacher
):
    soon = order_for(
        unit=hr_setup,
        profile=teacher,
        by=school_manager,
        name="Snart Start",
        start_date=in_days(10),
    )
    order_for(
        unit=hr_setup,
        profile=teacher,
        by=school_manager,
        name="Langt Ude",
        start_date=in_days(60),
    )
    client.force_login(school_manager)
    listing = client.get(reverse("orders:list")).content.decode()
    assert listing.count("Starter snart uden attest") == 1

    client.force_login(payroll)
    response = client.get(reverse("payroll:hire_compliance"))
    assert [o.pk for o in response.context["by_hand"]] == [soon.pk]
    assert "Snart Start" in response.content.decode()
    assert "Langt Ude" not in response.content.decode()


def test_a_start_date_past_says_started_without_a_certificate(
    client, hr_setup, school_manager, teacher
):
    started = order_for(unit=hr_setup, profile=teacher, by=school_manager, name="Startet")
    long_ago = order_for(unit=hr_setup, profile=teacher, by=school_manager, name="Gammel")
    Order.objects.filter(pk=started.pk).update(start_date=in_days(-30))
    Order.objects.filter(pk=long_ago.pk).update(start_date=in_days(-200))
    client.force_login(school_manager)

    listing = client.get(reverse("orders:list")).content.decode()

    assert listing.count("Startet uden attest") == 1
    assert "Starter snart uden attest" not in listing


def test_new_hires_groups_take_a_fixed_number_of_queries(
    client, hr_setup, payroll, school_manager, teacher, django_assert_max_num_queries
):
    data = csv_file(*[row(emp=f"U{i}", code="7777", start=in_days(60)) for i in range(20)])
    hires.apply_hire_import(hire_import=import_file(data, payroll), by=payroll)
    for i in range(10):
        order_for(
            unit=hr_setup,
            profile=teacher,
            by=school_manager,
            name=f"Hånd {i}",
            start_date=in_days(5),
        )
    client.force_login(payroll)
    with django_assert_max_num_queries(18):
        response = client.get(reverse("payroll:hire_compliance"))
    assert len(response.context["unmapped"]) == 20
    assert len(response.context["by_hand"]) == 10
