"""The evaluation rules in the database, and the standard set seeded from DESIGN and samples."""

from django.db import transaction
from django.utils import timezone

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
    ruleset = ruleset_model.objects.create(version=1, is_active=True, note="Standard",
                                           activated_at=timezone.now())
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


def _compile(ruleset) -> Rules:
    phrases = list(ruleset.phrases.select_related("kind"))
    by_role = {role: [(p.kind.code if p.kind else None, p.text) for p in phrases if p.role == role]
               for role in ("kind", "clean", "registration", "refusal")}
    kinds: dict[str, list[str]] = {}
    for code, text in by_role["kind"]:
        kinds.setdefault(code, []).append(text)
    return Rules.build(version=ruleset.version, kinds=kinds, clean=by_role["clean"],
                       registration=by_role["registration"],
                       refusal=[text for _, text in by_role["refusal"]])


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
        Phrase(ruleset=draft, role=p.role, kind=p.kind, text=p.text)
        for p in ruleset.phrases.all()
    )
    return draft


@transaction.atomic
def activate_ruleset(ruleset) -> None:
    from .models import RuleSet

    RuleSet.objects.select_for_update().filter(is_active=True).update(is_active=False)
    RuleSet.objects.filter(pk=ruleset.pk).update(is_active=True, activated_at=timezone.now())
