"""An administrator sees what a draft rule version would change before it goes live."""

from django.urls import reverse

from robot.models import Phrase, RuleSet
from robot.rules import copy_ruleset, try_ruleset

from .test_pipeline import receive


def draft_without_the_clean_phrase() -> RuleSet:
    draft = copy_ruleset(RuleSet.objects.get(is_active=True), note="uden ren-frase")
    draft.phrases.filter(role=Phrase.Role.CLEAN).delete()
    return draft


def test_a_draft_shows_every_stored_document_and_sample_whose_outcome_would_change(
    ordered_for,
):
    ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    assert document.outcome == "clean"

    active = RuleSet.objects.get(is_active=True)
    changes, tried = try_ruleset(draft_without_the_clean_phrase())

    changed = {(change.label, change.before, change.after) for change in changes}
    assert any(
        label.startswith(f"dokument {document.pk},")
        and (before, after) == ("clean", "needs_review")
        for label, before, after in changed
    )
    # Every clean sample would now go to a person; the not-clean ones stay as they are.
    assert {label for label, before, _ in changed if before == "clean"} >= {
        "boerneattest_ren.pdf",
        "offentlig_straffeattest_ren.pdf",
        "privat_straffeattest_ren.pdf",
    }
    assert not any("plettet" in label for label, _, _ in changed)
    assert tried == 1 + 7  # the stored certificate and the seven sample PDFs
    # Trying changes nothing.
    assert RuleSet.objects.get(is_active=True) == active
    document.refresh_from_db()
    assert document.evaluations.count() == 1


def test_the_administrator_runs_the_tryout_from_the_admin(client, admin_user, rules):
    draft = draft_without_the_clean_phrase()
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:robot_ruleset_changelist"),
        {"action": "try_out", "_selected_action": [draft.pk]},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "boerneattest_ren.pdf" in html and "Skal vurderes" in html
    assert "Intet blev gemt" in html


def test_the_admins_tryout_counts_real_certificates_without_naming_them(
    client, admin_user, ordered_for
):
    ordered_for("0101904321")
    document = receive("boerneattest_ren.pdf")
    draft = draft_without_the_clean_phrase()
    client.force_login(admin_user)

    html = client.post(
        reverse("admin:robot_ruleset_changelist"),
        {"action": "try_out", "_selected_action": [draft.pk]},
    ).content.decode()

    assert "1 gemt attest" in html
    assert f"dokument {document.pk}," not in html
    assert "boerneattest_ren.pdf" in html  # the shipped samples, shown one by one
