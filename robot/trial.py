"""Trial mode: the robot proposes, a person confirms, until the figures earn its trust.

Every certificate kind starts in trial mode: nothing the robot concludes reaches a
manager or the case system until a payroll clerk has confirmed or overruled it. An
administrator may switch a kind to automatic once the active rule version has enough
confirmed proposals and not one dangerous disagreement (robot "clean", person "not
clean"). A new rule version starts the count again, and the kind is back in trial.
In automatic mode a random share of clean results still goes to a person.
"""

import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import AccessLog, CertificateKind, OrderLine
from orders.services import OrderError
from portal.models import User

from .models import Document, ModeSwitch, Proposal, RuleSet
from .outcomes import notify_payroll, record_outcome
from .provenance import CHANNEL
from .rules import active_ruleset
from .services import log_document_access

Outcome = Document.Outcome
DANGEROUS = (Outcome.CLEAN, Outcome.NOT_CLEAN)  # the robot said clean, a person not clean


class TrialError(Exception):
    """An action on a proposal or a mode that is not allowed; the message is for the user."""


def current_mode(*, kind: CertificateKind, ruleset: RuleSet | None) -> str:
    """Automatic only if switched so under this rule version; otherwise trial."""
    if ruleset is None:
        return ModeSwitch.Mode.TRIAL
    switch = ModeSwitch.objects.filter(kind=kind, ruleset=ruleset).first()
    return switch.mode if switch is not None else ModeSwitch.Mode.TRIAL


def needs_confirmation(
    *, kind: CertificateKind, ruleset: RuleSet, outcome: str, mode: str | None = None
) -> bool:
    """Whether a person must confirm this answer before anything follows from it. `mode`,
    when the caller read it with the line (as `current_mode` would), saves the lookup."""
    if (mode or current_mode(kind=kind, ruleset=ruleset)) == ModeSwitch.Mode.TRIAL:
        return True
    return outcome == Outcome.CLEAN and _sampled()


def _sampled() -> bool:
    return random.uniform(0, 100) < settings.AUTOMATIC_SAMPLE_PERCENT


def propose(
    *,
    document: Document,
    line: OrderLine,
    ruleset: RuleSet,
    mode: str | None = None,
    held: bool = False,
) -> Proposal:
    """Hold the robot's answer for a person; the line is untouched until then. `held`: the
    document's channel proves nothing, so it waits for a person whatever the mode."""
    automatic = (mode or current_mode(kind=line.kind, ruleset=ruleset)) == ModeSwitch.Mode.AUTOMATIC
    sampled = automatic and not held
    document.line = line
    document.state = Document.State.PROPOSED
    proposal = Proposal.objects.create(
        document=document,
        line=line,
        kind=line.kind,
        ruleset=ruleset,
        proposed=document.outcome,
        sampled=sampled,
    )
    if document.outcome == Document.Outcome.NOT_CLEAN:
        notify_payroll(document, line)  # a registration is news even as a proposal
    return proposal


def _locked(proposal: Proposal) -> Proposal:
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("document", "line")
        .get(pk=proposal.pk)
    )
    if proposal.decided or proposal.document.state != Document.State.PROPOSED:
        raise TrialError(_("The proposal has already been decided."))
    if Document.objects.filter(line=proposal.line, state=Document.State.SECOND_ANSWER).exists():
        raise TrialError(
            _("Another answer to the same order has arrived: choose which of the two stands first.")
        )
    return proposal


def channel_unproven(proposal: Proposal) -> str:
    """Why the channel the proposal's document came through proves nothing, or ""."""
    evaluation = proposal.document.latest_evaluation
    for check in (evaluation.provenance if evaluation else None) or []:
        if check.get("name") == CHANNEL and not check.get("passed"):
            return check.get("detail", "")
    return ""


@transaction.atomic
def confirm_proposal(*, proposal: Proposal, by: User, channel_checked: bool = False) -> Proposal:
    """The person agrees: the answer takes effect as if the robot had acted alone. A
    document from a channel that proves nothing is confirmed only by someone who says they
    found the same certificate in the municipality's Digital Post mailbox."""
    proposal = _locked(proposal)
    if channel_unproven(proposal) and not channel_checked:
        raise TrialError(
            _(
                "Nothing shows that this file comes from the police. Tick that you have found the "
                "same certificate in the municipality's Digital Post mailbox, or overrule."
            )
        )
    return _decide(proposal, outcome=proposal.proposed, by=by, reason="")


@transaction.atomic
def overrule_proposal(*, proposal: Proposal, by: User, outcome: str, reason: str) -> Proposal:
    """The person disagrees: their outcome takes effect, with their reason on record."""
    proposal = _locked(proposal)
    if outcome not in (Outcome.CLEAN, Outcome.NOT_CLEAN, Outcome.REFUSED):
        raise TrialError(_("Choose what the document really says."))
    if outcome == proposal.proposed:
        raise TrialError(_("That is what the robot proposed: confirm it instead."))
    if not reason.strip():
        raise TrialError(_("Say why the robot was wrong."))
    if proposal.proposed == Outcome.NOT_CLEAN and outcome != Outcome.NOT_CLEAN:
        # The robot found signs of a registration; clearing them is an assessment.
        raise TrialError(
            _("The robot found signs of a registration: confirm it and assess the certificate.")
        )
    return _decide(proposal, outcome=outcome, by=by, reason=reason.strip())


def _decide(proposal: Proposal, *, outcome: str, by: User, reason: str) -> Proposal:
    document = proposal.document
    proposal.decided, proposal.decided_by, proposal.decided_at = outcome, by, timezone.now()
    proposal.reason = reason
    proposal.save(update_fields=["decided", "decided_by", "decided_at", "reason"])
    document.outcome = outcome
    document.handled_by, document.handled_at = by, proposal.decided_at
    # The manager's timeline says payroll checked it; whether payroll agreed with the robot
    # is for the agreement figures, not for the manager.
    note = _("Checked by payroll")
    try:
        record_outcome(document=document, line=proposal.line, outcome=outcome, by=by, note=note)
    except OrderError as error:
        raise TrialError(str(error)) from error
    if outcome != proposal.proposed:
        document.reason = _("Payroll overruled the robot (%(robot)s): %(reason)s") % {
            "robot": Outcome(proposal.proposed).label,
            "reason": reason,
        }
    document.save()
    log_document_access(user=by, document=document, action=AccessLog.Action.HANDLE_DOCUMENT)
    return proposal


def next_open_proposal(*, after: Proposal | None = None) -> Proposal | None:
    """The oldest proposal still waiting, other than the one just decided."""
    proposals = Proposal.objects.filter(decided="").order_by("created_at", "pk")
    if after is not None:
        proposals = proposals.exclude(pk=after.pk)
    return proposals.first()


# Agreement ------------------------------------------------------------------------------


@dataclass
class KindAgreement:
    kind: CertificateKind
    ruleset: RuleSet | None
    mode: str
    proposals: int = 0
    open: int = 0
    confirmed: int = 0
    overruled: dict[tuple[str, str], int] = field(default_factory=dict)
    switches: list[ModeSwitch] = field(default_factory=list)

    @property
    def dangerous(self) -> int:
        return self.overruled.get(DANGEROUS, 0)

    @property
    def overruled_rows(self) -> list[tuple[str, str, int]]:
        """(robot, person, count), the dangerous direction first."""
        rows = sorted(self.overruled.items(), key=lambda item: (item[0] != DANGEROUS, item[0]))
        return [
            (Outcome(robot).label, Outcome(person).label, count) for (robot, person), count in rows
        ]

    @property
    def missing(self) -> int:
        return max(settings.TRIAL_MIN_CONFIRMED - self.confirmed, 0)

    @property
    def may_switch(self) -> bool:
        return (
            self.mode == ModeSwitch.Mode.TRIAL
            and self.ruleset is not None
            and self.missing == 0
            and self.dangerous == 0
        )


def agreement() -> list[KindAgreement]:
    """Per certificate kind, under the active rule version: proposals, confirmations and
    overrulings by direction, and whether the kind may run automatically."""
    ruleset = active_ruleset()
    rows = {
        kind.pk: KindAgreement(
            kind=kind, ruleset=ruleset, mode=current_mode(kind=kind, ruleset=ruleset)
        )
        for kind in CertificateKind.objects.all()
    }
    counts = (
        Proposal.objects.filter(ruleset=ruleset)
        .values("kind", "proposed", "decided")
        .annotate(n=Count("pk"))
    )
    for row in counts:
        item = rows[row["kind"]]
        item.proposals += row["n"]
        if not row["decided"]:
            item.open += row["n"]
        elif row["decided"] == row["proposed"]:
            item.confirmed += row["n"]
        else:
            key = (row["proposed"], row["decided"])
            item.overruled[key] = item.overruled.get(key, 0) + row["n"]
    for switch in ModeSwitch.objects.select_related("switched_by", "ruleset")[:200]:
        if switch.kind_id in rows:
            rows[switch.kind_id].switches.append(switch)
    return sorted(rows.values(), key=lambda item: (-item.dangerous, item.kind.sort_order))


@transaction.atomic
def switch_mode(*, kind: CertificateKind, mode: str, by: User) -> ModeSwitch:
    """Move a kind between trial and automatic; automatic only when the figures allow."""
    ruleset = active_ruleset()
    if ruleset is None:
        raise TrialError(_("No evaluation rules are active."))
    # One switch at a time per kind: the figures are checked under the lock.
    CertificateKind.objects.select_for_update().get(pk=kind.pk)
    item = next(row for row in agreement() if row.kind.pk == kind.pk)
    if mode == ModeSwitch.Mode.AUTOMATIC and not item.may_switch:
        if item.dangerous:
            raise TrialError(
                _(
                    "The robot called a certificate clean that a person found not "
                    "clean under these rules: it cannot run alone."
                )
            )
        raise TrialError(
            _(
                "%(missing)d more confirmed proposals are needed under these rules "
                "before the robot may run alone."
            )
            % {"missing": item.missing}
        )
    if mode not in ModeSwitch.Mode.values:
        raise TrialError(_("Unknown mode."))
    return ModeSwitch.objects.create(
        kind=kind, ruleset=ruleset, mode=mode, switched_by=by, confirmed=item.confirmed
    )
