"""The robot earns trust before it acts alone.

In trial mode every answer waits as a proposal until a payroll clerk confirms or
overrules it; an administrator may let a kind run automatically once enough proposals
were confirmed under the active rules and none was dangerously wrong. A new rule version
starts the trial again, and in automatic mode a random share of clean answers is still
checked by a person.
"""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from orders.models import Notification, OrderEvent
from robot import filing, trial
from robot.models import Document, FilingJob, ModeSwitch, Proposal, RuleSet
from robot.rules import activate_ruleset, copy_ruleset
from robot.synthetic import certificate_pdf

from ..factories import kind
from .conftest import as_from_the_police, sample
from .test_pipeline import receive

MANAGER = "leder@nordskolen.example"
PAYROLL = "loen@kommune.example"
_CPR = re.compile(r"\d{6}-\d{4}")


def certificate_for(name: str, cpr: str) -> bytes:
    """The sample certificate `name`, issued for another CPR number (ten digits), and
    returned with the reference of the batch that person was ordered in."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(sample(name))).pages)
    text = _CPR.sub(f"{cpr[:6]}-{cpr[6:]}", text)
    return as_from_the_police(certificate_pdf([line for line in text.splitlines() if line.strip()]))


def answered(ordered, name: str, cpr: str) -> Document:
    """Order a teacher's certificates for `cpr`, and receive the answer `name` for them."""
    ordered(cpr)
    return receive(f"{cpr}-{name}", certificate_for(name, cpr))


def manager_mail():
    return Notification.objects.filter(to__contains=MANAGER)


@pytest.fixture
def archive(settings, tmp_path):
    settings.ESDH_BACKEND = "archive"
    settings.ESDH_ARCHIVE_DIR = str(tmp_path / "esdh")
    settings.ESDH_RATE_LIMIT = 1000


# --- Trial mode: the robot proposes -----------------------------------------------------


def test_in_a_new_installation_a_clean_answer_waits_as_a_proposal(
    ordered_in_trial, client, payroll
):
    order = ordered_in_trial("0101904321")
    assert not ModeSwitch.objects.exists()

    document = receive("boerneattest_ren.pdf")

    assert (document.state, document.outcome) == ("proposed", "clean")
    assert order.lines.get(kind__code="child").status == "ordered"
    assert not FilingJob.objects.exists()
    assert not manager_mail().exists()
    proposal = document.proposal
    assert (proposal.proposed, proposal.decided, proposal.sampled) == ("clean", "", False)

    client.force_login(payroll)
    page = client.get(reverse("robot:document", args=[document.pk])).content.decode()
    assert "Robotten foreslår" in page and "Bekræft: ren" in page


def test_confirming_clears_the_line_and_opens_the_next_proposal(
    ordered_in_trial, client, payroll, archive
):
    first_order = ordered_in_trial("0101904321")
    second_order = ordered_in_trial("1502851357", name="Jens Peter Hansen")
    first = receive("boerneattest_ren.pdf")
    second = receive("offentlig_straffeattest_ren.pdf")
    assert first.state == second.state == "proposed"
    client.force_login(payroll)

    response = client.post(reverse("robot:proposal_confirm", args=[first.proposal.pk]))

    assert response.status_code == 302
    assert response.url == reverse("robot:document", args=[second.pk])
    first.refresh_from_db()
    line = first_order.lines.get(kind__code="child")
    assert (first.state, line.status) == ("done", "cleared")
    assert OrderEvent.objects.filter(
        line=line, action="received", note__startswith="Kontrolleret af lønkontoret", actor=payroll
    ).exists()
    assert FilingJob.objects.get(document=first).state == "pending"
    # Clearing tells the manager nothing yet: the e-mail comes when the case system has it.
    assert not manager_mail().exists()

    response = client.post(reverse("robot:proposal_confirm", args=[second.proposal.pk]))

    assert response.url == f"{reverse('robot:queue')}?state=proposed"
    assert second_order.lines.get(kind__code="criminal_public").status == "cleared"

    assert filing.file_due() == 2
    filed = manager_mail().filter(template="certificate_filed")
    assert sorted(mail.line.order.full_name for mail in filed) == [
        "Jens Peter Hansen",
        "Åse Østergård",
    ]


def test_overruling_a_clean_proposal_sends_the_certificate_to_assessment(
    ordered_in_trial, client, payroll
):
    order = ordered_in_trial("0101904321")
    document = receive("boerneattest_ren.pdf")
    client.force_login(payroll)

    response = client.post(
        reverse("robot:proposal_overrule", args=[document.proposal.pk]),
        {"outcome": "not_clean", "reason": "Der er en side 2 med en dom"},
    )

    assert response.status_code == 302
    assert response.url == reverse("robot:document", args=[document.pk])
    document.refresh_from_db()
    assert (document.state, document.outcome) == ("not_clean", "not_clean")
    assert document.reason == (
        "Lønkontoret underkendte robotten (Ren): Der er en side 2 med en dom"
    )
    assert order.lines.get(kind__code="child").status == "in_review"
    assert Notification.objects.get(template="certificate_flagged").to == PAYROLL
    assert not FilingJob.objects.exists()
    assert not manager_mail().exists()
    proposal = Proposal.objects.get(document=document)
    assert (proposal.decided, proposal.decided_by) == ("not_clean", payroll)


def assert_nothing_decided(document, order) -> None:
    document.refresh_from_db()
    assert document.state == "proposed"
    assert Proposal.objects.get(document=document).decided == ""
    assert order.lines.get(kind__code="child").status == "ordered"
    assert not FilingJob.objects.exists()
    # The manager hears nothing; payroll only that a not-clean certificate has arrived.
    assert set(Notification.objects.values_list("template", flat=True)) <= {"certificate_flagged"}


@pytest.mark.parametrize("reason", ["", "   "])
def test_overruling_without_a_reason_is_refused(ordered_in_trial, client, payroll, reason):
    order = ordered_in_trial("0101904321")
    document = receive("boerneattest_ren.pdf")
    client.force_login(payroll)

    response = client.post(
        reverse("robot:proposal_overrule", args=[document.proposal.pk]),
        {"outcome": "not_clean", "reason": reason},
    )

    assert response.status_code == 400
    assert "Dette felt er påkrævet." in response.content.decode()
    assert_nothing_decided(document, order)


def test_the_service_also_refuses_an_overruling_without_a_reason(ordered_in_trial, payroll):
    order = ordered_in_trial("0101904321")
    document = receive("boerneattest_ren.pdf")

    with pytest.raises(trial.TrialError, match="Skriv, hvorfor robotten tog fejl."):
        trial.overrule_proposal(
            proposal=document.proposal, by=payroll, outcome="not_clean", reason="  "
        )
    assert_nothing_decided(document, order)


def test_overruling_to_what_the_robot_proposed_is_refused(ordered_in_trial, client, payroll):
    order = ordered_in_trial("0101904321")
    document = receive("boerneattest_ren.pdf")
    client.force_login(payroll)

    response = client.post(
        reverse("robot:proposal_overrule", args=[document.proposal.pk]),
        {"outcome": "clean", "reason": "Ren"},
    )

    assert response.status_code == 400
    assert "Det er det, robotten foreslog: bekræft det i stedet." in response.content.decode()
    assert_nothing_decided(document, order)


def test_a_not_clean_proposal_cannot_be_overruled_to_clean(ordered_in_trial, client, payroll):
    order = ordered_in_trial("1111803335", name="Søren Ærøe")
    document = receive("boerneattest_plettet.pdf")
    assert (document.state, document.outcome) == ("proposed", "not_clean")
    client.force_login(payroll)

    response = client.post(
        reverse("robot:proposal_overrule", args=[document.proposal.pk]),
        {"outcome": "clean", "reason": "Dommen er gammel"},
    )

    assert response.status_code == 400
    assert (
        "Robotten fandt tegn på en registrering: bekræft det, og vurdér attesten."
        in response.content.decode()
    )
    assert_nothing_decided(document, order)


def test_a_second_answer_while_the_first_proposal_is_open_waits_for_payroll_to_choose(
    ordered_in_trial, payroll
):
    order = ordered_in_trial("0101904321")
    first = receive("boerneattest_ren.pdf")

    again = receive("igen.pdf", as_from_the_police(sample("boerneattest_ren.pdf")) + b"\n%igen\n")

    assert first.state == "proposed"
    assert (again.state, again.line) == ("second_answer", order.lines.get(kind__code="child"))
    assert Proposal.objects.count() == 1
    assert Notification.objects.filter(to=PAYROLL, template__startswith="certificate_").exists()
    # Confirming the first must not hide the second.
    with pytest.raises(trial.TrialError, match="Der er kommet endnu et svar"):
        trial.confirm_proposal(proposal=first.proposal, by=payroll)


def test_a_not_clean_answer_behind_an_open_clean_proposal_is_flagged_to_payroll(ordered_in_trial):
    # If the clerk confirms the clean proposal, this registration must not be lost
    # behind it as a quiet duplicate.
    ordered_in_trial("0101904321")
    receive("boerneattest_ren.pdf")

    flagged = receive("plettet.pdf", certificate_for("boerneattest_plettet.pdf", "0101904321"))

    assert (flagged.state, flagged.outcome) == ("second_answer", "not_clean")
    assert Notification.objects.filter(to=PAYROLL, template__startswith="certificate_").exists()


# --- Agreement and switching to automatic -----------------------------------------------


def decide(document: Document, by, outcome: str | None = None) -> None:
    """Confirm the document's proposal, or overrule it to `outcome`."""
    proposal = document.proposal
    if outcome is None:
        trial.confirm_proposal(proposal=proposal, by=by)
    else:
        trial.overrule_proposal(
            proposal=proposal, by=by, outcome=outcome, reason="Læst af lønkontoret"
        )


def row_for(code: str):
    return next(row for row in trial.agreement() if row.kind.code == code)


@pytest.fixture
def minimum_two(settings):
    settings.TRIAL_MIN_CONFIRMED = 2


def test_agreement_counts_per_kind_with_dangerous_disagreements_first(
    ordered_in_trial, payroll, minimum_two
):
    for cpr in ("0101901111", "0201902222"):
        decide(answered(ordered_in_trial, "boerneattest_ren.pdf", cpr), payroll)
    decide(answered(ordered_in_trial, "boerneattest_ren.pdf", "0301903333"), payroll, "refused")
    answered(ordered_in_trial, "boerneattest_ren.pdf", "0401904444")  # still open
    decide(
        answered(ordered_in_trial, "offentlig_straffeattest_ren.pdf", "0501905555"),
        payroll,
        "not_clean",
    )

    rows = trial.agreement()

    assert rows[0].kind.code == "criminal_public"  # the dangerous one before the rest
    public, child = rows[0], row_for("child")
    assert (public.proposals, public.confirmed, public.dangerous) == (1, 0, 1)
    assert [tuple(map(str, row)) for row in public.overruled_rows] == [("Ren", "Ikke ren", "1")]
    assert (child.proposals, child.open, child.confirmed, child.dangerous) == (4, 1, 2, 0)
    assert child.overruled == {("clean", "refused"): 1}
    assert child.ruleset == RuleSet.objects.get(is_active=True)
    assert child.may_switch and not public.may_switch


def test_switching_to_automatic_needs_the_minimum_of_confirmed_proposals(
    ordered_in_trial, payroll, admin_user, minimum_two
):
    decide(answered(ordered_in_trial, "boerneattest_ren.pdf", "0101901111"), payroll)

    with pytest.raises(
        trial.TrialError,
        match="Der skal 1 bekræftede forslag mere til under "
        "disse regler, før robotten må køre alene.",
    ):
        trial.switch_mode(kind=kind("child"), mode="automatic", by=admin_user)

    assert not ModeSwitch.objects.exists()


def test_one_dangerous_disagreement_keeps_the_robot_in_trial(
    ordered_in_trial, payroll, admin_user, minimum_two
):
    for cpr in ("0101901111", "0201902222", "0301903333"):
        decide(answered(ordered_in_trial, "boerneattest_ren.pdf", cpr), payroll)
    decide(answered(ordered_in_trial, "boerneattest_ren.pdf", "0401904444"), payroll, "not_clean")
    assert row_for("child").confirmed == 3

    with pytest.raises(
        trial.TrialError, match="Robotten kaldte en attest ren, som en person fandt ikke ren"
    ):
        trial.switch_mode(kind=kind("child"), mode="automatic", by=admin_user)

    assert not ModeSwitch.objects.exists()


def test_switching_is_recorded_and_a_new_rule_version_starts_the_trial_again(
    ordered_in_trial, payroll, admin_user, minimum_two
):
    for cpr in ("0101901111", "0201902222"):
        decide(answered(ordered_in_trial, "boerneattest_ren.pdf", cpr), payroll)
    before = timezone.now()

    switch = trial.switch_mode(kind=kind("child"), mode="automatic", by=admin_user)

    assert (switch.mode, switch.switched_by, switch.confirmed) == ("automatic", admin_user, 2)
    assert switch.switched_at >= before
    assert row_for("child").mode == "automatic"
    assert answered(ordered_in_trial, "boerneattest_ren.pdf", "0301903333").state == "done"

    activate_ruleset(copy_ruleset(RuleSet.objects.get(is_active=True), note="Ny sætning"))

    child = row_for("child")
    assert (child.mode, child.proposals, child.confirmed, child.may_switch) == (
        "trial",
        0,
        0,
        False,
    )
    assert answered(ordered_in_trial, "boerneattest_ren.pdf", "0401904444").state == "proposed"


def test_only_an_administrator_can_switch_a_kind(
    ordered_in_trial, client, payroll, admin_user, settings
):
    settings.TRIAL_MIN_CONFIRMED = 0
    url = reverse("robot:agreement_switch", args=[kind("child").pk])

    client.force_login(payroll)
    assert client.post(url, {"mode": "automatic"}).status_code == 404
    assert not ModeSwitch.objects.exists()

    client.force_login(admin_user)
    response = client.post(url, {"mode": "automatic"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("robot:agreement")
    assert ModeSwitch.objects.get().switched_by == admin_user
    assert "Børneattest: Automatisk: robotten handler selv." in response.content.decode()


def test_a_refused_switch_shows_the_administrator_why(
    ordered_in_trial, client, admin_user, minimum_two
):
    client.force_login(admin_user)

    response = client.post(
        reverse("robot:agreement_switch", args=[kind("child").pk]),
        {"mode": "automatic"},
        follow=True,
    )

    assert not ModeSwitch.objects.exists()
    assert (
        "Der skal 2 bekræftede forslag mere til under disse regler, før robotten må køre alene."
    ) in response.content.decode()


# --- Automatic mode: random checks ------------------------------------------------------


def test_in_automatic_mode_a_sampled_clean_answer_still_waits_for_a_person(ordered_for, settings):
    settings.AUTOMATIC_SAMPLE_PERCENT = 100
    order = ordered_for("0101904321")

    document = receive("boerneattest_ren.pdf")

    assert document.state == "proposed"
    assert document.proposal.sampled is True
    assert order.lines.get(kind__code="child").status == "ordered"
    assert not FilingJob.objects.exists()


def test_in_automatic_mode_an_unsampled_clean_answer_clears_directly(ordered_for, settings):
    settings.AUTOMATIC_SAMPLE_PERCENT = 0
    order = ordered_for("0101904321")

    document = receive("boerneattest_ren.pdf")

    assert document.state == "done"
    assert order.lines.get(kind__code="child").status == "cleared"
    assert FilingJob.objects.filter(document=document).exists()
    assert not Proposal.objects.exists()


def test_in_automatic_mode_a_not_clean_answer_goes_straight_to_assessment(ordered_for, settings):
    settings.AUTOMATIC_SAMPLE_PERCENT = 100  # sampling is for clean answers only
    order = ordered_for("1111803335", name="Søren Ærøe")

    document = receive("boerneattest_plettet.pdf")

    assert document.state == "not_clean"
    assert order.lines.get(kind__code="child").status == "in_review"
    assert not Proposal.objects.exists()
    assert Notification.objects.get(template="certificate_flagged").to == PAYROLL


def test_overruling_opens_the_next_proposal_as_confirming_does(ordered_in_trial, client, payroll):
    ordered_in_trial("0101904321")
    ordered_in_trial("1502851357", name="Jens Peter Hansen")
    ordered_in_trial("1205882468", name="Mette Holm")
    first = receive("boerneattest_ren.pdf")
    second = receive("offentlig_straffeattest_ren.pdf")
    third = receive("afslag_boerneattest.pdf")
    client.force_login(payroll)

    response = client.post(
        reverse("robot:proposal_overrule", args=[first.proposal.pk]),
        {"outcome": "not_clean", "reason": "Der er en side 2 med en dom"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("robot:document", args=[second.pk]), 302)]
    html = response.content.decode()
    assert "Robotten foreslår: ren" in html
    # The overruled certificate waits for its assessment, one click away.
    assert (
        "boerneattest_ren.pdf venter på din vurdering i køen. "
        f'<a href="{reverse("robot:document", args=[first.pk])}">Vurder den nu</a>'
    ) in html
    first.refresh_from_db()
    assert first.state == "not_clean"

    response = client.post(
        reverse("robot:proposal_overrule", args=[second.proposal.pk]),
        {"outcome": "refused", "reason": "Det er et afslag"},
    )

    assert response.url == reverse("robot:document", args=[third.pk])
