"""The evaluation of a certificate's text: fail-safe, and driven by rules that are data.

`clean` only when the kind is known, a CPR number is found, a clean phrase is present
and no sign of a registration is; anything doubtful goes to a person.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.cpr import find_cprs, mask_cpr, redact_cprs


class Outcome(models.TextChoices):
    """What the robot concludes about a document."""

    CLEAN = "clean", gettext_lazy("Clean")
    NOT_CLEAN = "not_clean", gettext_lazy("Not clean")
    REFUSED = "refused", gettext_lazy("Refused")
    NEEDS_REVIEW = "needs_review", gettext_lazy("Needs review")
    UNREADABLE = "unreadable", gettext_lazy("Unreadable")


REFUSAL = "refusal"
UNKNOWN = "unknown"


def normalise(text: str) -> str:
    """Text as the rules see it: NFKC, lower case, words re-joined across line-break
    hyphens, invisible format characters (soft hyphens, zero-width spaces) dropped,
    every run of whitespace one space."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = re.sub(r"(\w)-[ \t]*\r?\n[ \t]*(\w)", r"\1\2", text)
    text = re.sub(r"\s+", " ", text, flags=re.UNICODE)
    return text.casefold().strip()


@dataclass(frozen=True)
class Rules:
    version: int
    kinds: dict[str, tuple[str, ...]]  # kind code -> phrases identifying it
    clean: tuple[tuple[str | None, str], ...]  # (kind code or None, phrase)
    registration: tuple[tuple[str | None, str], ...]
    refusal: tuple[str, ...]

    @classmethod
    def build(cls, *, version, kinds, clean, registration, refusal) -> "Rules":
        return cls(
            version=version,
            kinds={k: tuple(normalise(p) for p in v) for k, v in kinds.items()},
            clean=tuple((k, normalise(p)) for k, p in clean),
            registration=tuple((k, normalise(p)) for k, p in registration),
            refusal=tuple(normalise(p) for p in refusal),
        )


@dataclass
class Result:
    kind: str = UNKNOWN  # child, criminal_public, criminal_private, refusal, unknown
    outcome: str = Outcome.NEEDS_REVIEW
    cpr: str | None = None  # ten digits
    refused_kind: str | None = None
    reason: str = ""
    evidence: list[dict] = field(default_factory=list)
    rules_version: int | None = None
    # The text the result was read from, for the provenance checks; never stored.
    text: str = field(default="", repr=False)

    @property
    def cpr_masked(self) -> str | None:
        return mask_cpr(self.cpr) if self.cpr else None

    def as_json(self, file: str) -> dict:
        return {
            "file": file,
            "kind": self.kind,
            "outcome": self.outcome,
            "cpr": self.cpr_masked,
            "reason": self.reason,
        }


def _hits(normalised: str, role: str, phrases, kind_of=None) -> list[dict]:
    """Where each phrase occurs; snippets come from the text with every CPR masked first."""
    masked = redact_cprs(normalised)
    hits = []
    for phrase in phrases:
        kind, text = phrase if isinstance(phrase, tuple) else (kind_of, phrase)
        if not text:
            continue
        position = normalised.find(text)
        if position >= 0:
            start = max(position - 40, 0)
            hits.append(
                {
                    "role": role,
                    "kind": kind,
                    "phrase": text,
                    "position": position,
                    "count": normalised.count(text),
                    "snippet": masked[start : position + len(text) + 40],
                }
            )
    return hits


def evaluate_text(text: str, rules: Rules) -> Result:
    result = Result(rules_version=rules.version)
    normalised = normalise(text)
    if not normalised:
        result.outcome, result.reason = Outcome.UNREADABLE, _("No text could be read.")
        return result

    kind_hits = [
        h
        for code, phrases in rules.kinds.items()
        for h in _hits(normalised, "kind", phrases, kind_of=code)
    ]
    kinds = sorted({h["kind"] for h in kind_hits})
    refusal_hits = _hits(normalised, "refusal", rules.refusal)
    cprs = find_cprs(text)
    result.cpr = cprs[0] if len(cprs) == 1 else None
    kind = kinds[0] if len(kinds) == 1 else None
    clean_hits = [h for h in _hits(normalised, "clean", rules.clean) if h["kind"] in (None, kind)]
    registration_hits = [
        h
        for h in _hits(normalised, "registration", rules.registration)
        if h["kind"] in (None, kind)
    ]
    result.evidence = kind_hits + refusal_hits + clean_hits + registration_hits

    if len(cprs) > 1:
        result.kind = REFUSAL if refusal_hits else (kind or UNKNOWN)
        result.reason = _("The document contains several CPR numbers.")
        return result
    if refusal_hits:
        # A refusal is a short letter: with anything of a certificate in it, a person looks.
        result.kind, result.refused_kind = REFUSAL, kind
        if result.cpr is None:
            result.reason = _("A refusal, but no CPR number was found.")
        elif clean_hits or registration_hits:
            result.reason = _("A refusal that also reads like a certificate.")
        else:
            result.outcome, result.reason = Outcome.REFUSED, _("The police refused the order.")
        return result
    if len(kinds) > 1:
        result.reason = _("The document names several certificate kinds.")
        return result
    if kind is None:
        result.reason = _("The certificate kind was not recognised.")
        return result
    result.kind = kind
    if result.cpr is None:
        result.reason = _("No valid CPR number was found.")
    elif clean_hits and registration_hits:
        result.reason = _("Both the clean phrase and signs of a registration were found.")
    elif clean_hits and sum(h["count"] for h in clean_hits) > 1:
        result.reason = _("The clean phrase occurs more than once.")
    elif clean_hits:
        result.outcome, result.reason = (
            Outcome.CLEAN,
            _("The clean phrase was found and no sign of a registration."),
        )
    elif registration_hits:
        result.outcome, result.reason = Outcome.NOT_CLEAN, _("Signs of a registration were found.")
    else:
        result.reason = _("Neither the clean phrase nor a sign of a registration was found.")
    return result
