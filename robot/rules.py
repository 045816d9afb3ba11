"""The evaluation rules in the database, and the standard set seeded from DESIGN and samples."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .evaluation import Rules

STANDARD_PHRASES = [
    # role, kind code (None = every kind), text
    ("kind", "child", "børneattest"),
    ("kind", "criminal_public", "offentlig straffeattest"),
    ("kind", "criminal_private", "privat straffeattest"),
    # The one phrase known from production code.
    ("clean", None, "er ikke registreret med afgørelser"),
    # Signs of a registration: generous on purpose. A false alarm costs a person a look;
    # a miss would call a not-clean certificate clean.
    ("registration", None, "er registreret med følgende afgørelser"),
    ("registration", None, "er registreret med afgørelser"),
    ("registration", None, "registreret med følgende"),
    ("registration", None, "overtrådte bestemmelser"),
    ("registration", None, "bortset fra"),
    ("registration", None, "med undtagelse af"),
    ("registration", None, "fængsel"),
    ("registration", None, "hæfte"),
    ("registration", None, "bøde"),
    ("registration", None, "betinget"),
    ("registration", None, "samfundstjeneste"),
    ("registration", None, "dom "),
    ("registration", None, "dømt"),
    ("registration", None, "straffeloven"),
    ("registration", None, "sigtelse"),
    ("registration", None, "sigtet"),
    ("registration", None, "tiltale"),
    ("registration", None, "anklagemyndighed"),
    ("registration", None, "retten i"),
    ("refusal", None, "afslag på anmodning"),
    ("refusal", None, "kan ikke imødekommes"),
    ("refusal", None, "der udstedes derfor ingen attest"),
]


def ensure_standard_rules(ruleset_model, phrase_model, kind_model) -> None:
    """Create version 1 with the standard phrases when no rules exist yet."""
    if ruleset_model.objects.exists():
        return
    ruleset = ruleset_model.objects.create(
        version=1, is_active=True, note="Standard", activated_at=timezone.now()
    )
    kinds = {k.code: k for k in kind_model.objects.all()}
    phrase_model.objects.bulk_create(
        phrase_model(ruleset=ruleset, role=role, kind=kinds.get(code), text=text)
        for role, code, text in STANDARD_PHRASES
    )


_compiled: dict[tuple, Rules] = {}


def rules_from(ruleset) -> Rules:
    """The ruleset as the evaluation uses it. An active or used ruleset cannot be edited
    (see the admin), so its compiled form is kept per process."""
    key = (ruleset.pk, ruleset.version, ruleset.activated_at)
    if ruleset.is_active and key in _compiled:
        return _compiled[key]
    rules = _compile(ruleset)
    if ruleset.is_active:
        _compiled[key] = rules
    return rules


_kind_ids: dict[tuple, dict[str, int]] = {}


def kind_ids(ruleset) -> dict[str, int]:
    """Certificate kind ids by code, for the kinds this ruleset's phrases name (every kind
    its evaluation can answer); kept per process like the compiled rules."""
    key = (ruleset.pk, ruleset.version, ruleset.activated_at)
    if ruleset.is_active and key in _kind_ids:
        return _kind_ids[key]
    ids = {
        code: pk
        for code, pk in ruleset.phrases.filter(kind__isnull=False).values_list(
            "kind__code", "kind_id"
        )
    }
    if ruleset.is_active:
        _kind_ids[key] = ids
    return ids


def _compile(ruleset) -> Rules:
    phrases = list(ruleset.phrases.select_related("kind"))
    by_role = {
        role: [(p.kind.code if p.kind else None, p.text) for p in phrases if p.role == role]
        for role in ("kind", "clean", "registration", "refusal")
    }
    kinds: dict[str, list[str]] = {}
    for code, text in by_role["kind"]:
        kinds.setdefault(code, []).append(text)
    return Rules.build(
        version=ruleset.version,
        kinds=kinds,
        clean=by_role["clean"],
        registration=by_role["registration"],
        refusal=[text for _, text in by_role["refusal"]],
    )


def active_ruleset():
    from .models import RuleSet

    return RuleSet.objects.filter(is_active=True).first()


@transaction.atomic
def copy_ruleset(ruleset, *, note: str = ""):
    """A new draft version with the same phrases, to edit and then activate."""
    from .models import Phrase, RuleSet

    last = RuleSet.objects.select_for_update().order_by("-version").first()
    draft = RuleSet.objects.create(version=last.version + 1, note=note)
    Phrase.objects.bulk_create(
        Phrase(ruleset=draft, role=p.role, kind=p.kind, text=p.text) for p in ruleset.phrases.all()
    )
    return draft


@transaction.atomic
def activate_ruleset(ruleset, *, by=None) -> None:
    """Make `ruleset` the one the robot uses, recording who did it (None: a command)."""
    from .models import RuleSet

    # Saved row by row, not with update(), so the audit log records both changes.
    for previous in RuleSet.objects.select_for_update().filter(is_active=True):
        previous.is_active = False
        previous.save(update_fields=["is_active"])
    ruleset = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    ruleset.is_active, ruleset.activated_at, ruleset.activated_by = True, timezone.now(), by
    ruleset.save(update_fields=["is_active", "activated_at", "activated_by"])


@dataclass(frozen=True)
class RuleChange:
    """A document whose outcome a rule version would change."""

    label: str  # "document 123, received 27.11.2026" or a sample's file name
    kind: str
    before: str
    after: str
    reason: str


def try_ruleset(ruleset, *, limit: int = 200) -> tuple[list[RuleChange], int]:
    """Judge the newest stored documents (and the shipped samples) with `ruleset` and
    return those whose outcome would differ from today's, with how many were tried.
    Reads files only: nothing is saved. Names and CPR numbers are not shown."""
    from .intake import document_path
    from .models import Document
    from .reading import evaluate_pdf, is_message

    draft = rules_from(ruleset)
    current = active_ruleset()
    current_rules = rules_from(current) if current is not None else None
    changes, tried = [], 0
    documents = (
        Document.objects.filter(evaluations__isnull=False)
        .distinct()
        .order_by("-received_at", "-pk")[:limit]
    )
    for document in documents:
        path = document_path(document)
        if not path.exists():
            continue
        data = path.read_bytes()
        if is_message(data, document.original_name):
            continue  # its attachments are documents of their own
        tried += 1
        before = document.latest_evaluation
        after = evaluate_pdf(data, draft)
        if before is None or before.outcome != after.outcome:
            changes.append(
                RuleChange(
                    label=_("document %(pk)s, received %(date)s")
                    % {
                        "pk": document.pk,
                        "date": timezone.localdate(document.received_at).strftime("%d.%m.%Y"),
                    },
                    kind=after.kind,
                    before=before.outcome if before else "",
                    after=after.outcome,
                    reason=after.reason,
                )
            )
    for path in sorted(samples_dir().glob("*.pdf")):
        tried += 1
        data = path.read_bytes()
        after = evaluate_pdf(data, draft)
        before = evaluate_pdf(data, current_rules).outcome if current_rules else ""
        if before != after.outcome:
            changes.append(
                RuleChange(
                    label=path.name,
                    kind=after.kind,
                    before=before,
                    after=after.outcome,
                    reason=after.reason,
                )
            )
    return changes, tried


def samples_dir() -> Path:
    """The synthetic samples shipped with the portal, tried with every draft version."""
    return Path(settings.BASE_DIR) / "tests" / "samples"
