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


def choose(client, draft, action: str, **extra):
    return client.post(
        reverse("admin:robot_ruleset_changelist"),
        {"action": action, "_selected_action": [draft.pk], **extra},
    )


def test_activating_asks_first_says_what_happens_and_points_to_the_tryout(
    client, admin_user, rules
):
    from orders.models import CertificateKind
    from robot.models import ModeSwitch

    active = RuleSet.objects.get(is_active=True)
    ModeSwitch.objects.create(
        kind=CertificateKind.objects.get(code="child"),
        ruleset=active,
        mode=ModeSwitch.Mode.AUTOMATIC,
        switched_by=admin_user,
    )
    draft = draft_without_the_clean_phrase()
    client.force_login(admin_user)

    page = choose(client, draft, "activate").content.decode()

    assert RuleSet.objects.get(is_active=True) == active  # nothing happened yet
    assert "starter forfra for hver attesttype" in page
    assert "hvert nyt dokument" in page
    assert "Automatisk i dag og tilbage i afprøvning: Børneattest." in page
    assert f'href="{reverse("admin:robot_ruleset_try", args=[draft.pk])}"' in page
    assert 'name="post" value="yes"' in page

    choose(client, draft, "activate", post="yes")

    assert RuleSet.objects.get(is_active=True) == draft


def test_the_tryout_has_a_page_of_its_own_to_link_to(client, admin_user, rules):
    draft = draft_without_the_clean_phrase()
    client.force_login(admin_user)

    page = client.get(reverse("admin:robot_ruleset_try", args=[draft.pk])).content.decode()

    assert "Intet blev gemt" in page and "boerneattest_ren.pdf" in page
    assert 'value="activate"' in page  # on to the confirmation, after looking


def test_rule_versions_that_have_been_used_cannot_be_deleted(client, admin_user, rules):
    active = RuleSet.objects.get(is_active=True)
    draft = draft_without_the_clean_phrase()
    client.force_login(admin_user)

    changelist = client.get(reverse("admin:robot_ruleset_changelist")).content.decode()
    assert "delete_selected" not in changelist

    delete = "admin:robot_ruleset_delete"
    assert client.get(reverse(delete, args=[active.pk])).status_code == 403
    assert client.get(reverse(delete, args=[draft.pk])).status_code == 200
    choose(client, draft, "activate", post="yes")
    choose(client, active, "activate", post="yes")
    # Once used, always kept: the draft is history now, though no longer active.
    assert client.get(reverse(delete, args=[draft.pk])).status_code == 403
