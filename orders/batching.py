"""Police batches: payroll's mass orders at politi.dk, at most 50 persons each.

The portal never talks to the police. It cuts the waiting lines into batches of
what one police form takes (one kind, one legal basis, 50 persons), shows them
ready to paste, and records when the clerk has sent them.
"""

import re
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import exports
from portal.cpr import format_cpr
from portal.models import User

from .models import LegalBasis, OrderEvent, OrderLine, PoliceBatch
from .services import OrderError, change_line_status
from .timeline import record_events

# Letters and digits that cannot be mistaken for each other when read or typed: no 0/O,
# 1/I/L. Nine of these (the first a letter) are 44.1 random bits, short enough to paste.
SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SECRET_LENGTH = 9
# The public part of a Rekvirent reference, once spaces and dashes are taken out. The
# "B" keeps it from looking like a CPR number (ddmmåå-nnnn) on the certificate.
_PUBLIC_REFERENCE = re.compile(r"ATT\d{6}B\d{4,}")


def new_batch_secret() -> str:
    """Nine characters, the first a letter, so that where the reference's batch number
    ends is never in doubt (B1000 followed by a digit would read as B10000...)."""
    letters = SECRET_ALPHABET[8:]
    return secrets.choice(letters) + "".join(
        secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH - 1)
    )


def compact(text: str) -> str:
    """Text as a reference is searched in it: upper case, only letters and digits, so line
    breaks, spaces and dashes a PDF or a mail program put in do not matter."""
    return re.sub(r"[^0-9A-Z]", "", (text or "").upper())


def names_batch(text: str, reference: str) -> bool:
    """Whether the text names this batch's public reference (and not a longer one)."""
    return re.search(re.escape(compact(reference)) + r"(?!\d)", compact(text)) is not None


def references_in(text: str) -> bool:
    """Whether the text carries any batch's Rekvirent reference."""
    return _PUBLIC_REFERENCE.search(compact(text)) is not None


@dataclass
class WaitingGroup:
    legal_basis: LegalBasis
    lines: list[OrderLine]

    @property
    def kind(self):
        return self.legal_basis.kind


def waiting_groups() -> list[WaitingGroup]:
    """Lines not yet in a batch, grouped by what the police form needs."""
    groups: dict[int, WaitingGroup] = {}
    for line in OrderLine.objects.awaiting_police().order_by(
        "kind__sort_order", "legal_basis__text", "order__created_at", "pk"
    ):
        group = groups.setdefault(line.legal_basis_id, WaitingGroup(line.legal_basis, []))
        group.lines.append(line)
    return list(groups.values())


@transaction.atomic
def prepare_batches(*, by: User) -> list[PoliceBatch]:
    """Cut every waiting line into batches of at most 50 of one kind and legal basis.

    Lines are claimed under row locks that skip rows another clerk holds, and
    re-checked inside the lock, so no line can end up in two batches.
    """
    claimed = list(
        OrderLine.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=OrderLine.Status.NEW, batch__isnull=True, order__digital_post_exempt=False)
        .order_by("legal_basis_id", "order__created_at", "pk")
    )
    by_basis: dict[int, list[OrderLine]] = defaultdict(list)
    for line in claimed:
        by_basis[line.legal_basis_id].append(line)
    now = timezone.now()
    batches = []
    for lines in by_basis.values():
        for start in range(0, len(lines), PoliceBatch.MAX_PERSONS):
            chunk = lines[start : start + PoliceBatch.MAX_PERSONS]
            batches.append(_new_batch(chunk, now=now, by=by))
    return batches


def _new_batch(lines: list[OrderLine], *, now, by: User, on_paper: bool = False) -> PoliceBatch:
    """A batch of the given (locked) lines of one legal basis, with its secret reference."""
    # The readable reference needs the primary key; a unique placeholder until then.
    batch = PoliceBatch.objects.create(
        reference=uuid.uuid4().hex[:30],
        secret=new_batch_secret(),
        on_paper=on_paper,
        kind_id=lines[0].kind_id,
        legal_basis_id=lines[0].legal_basis_id,
        created_at=now,
        created_by=by,
    )
    batch.reference = f"ATT-{now:%y%m%d}-B{batch.pk:04d}"
    batch.save(update_fields=["reference"])
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(batch=batch)
    _record_batch_events(lines, batch=batch, action=OrderEvent.Action.BATCHED, by=by, at=now)
    return batch


def _locked_batch(batch: PoliceBatch) -> PoliceBatch:
    return PoliceBatch.objects.select_for_update().get(pk=batch.pk)


@transaction.atomic
def mark_batch_ordered(*, batch: PoliceBatch, by: User) -> PoliceBatch:
    """The clerk has sent the batch at politi.dk: its lines now await consent."""
    batch = _locked_batch(batch)
    if batch.state != PoliceBatch.State.PREPARED:
        raise OrderError(_("The batch has already been marked as ordered."))
    now = timezone.now()
    lines = OrderLine.objects.select_for_update().filter(batch=batch, status=OrderLine.Status.NEW)
    note = batch.reference
    if batch.on_paper:
        note += " (" + _("Paper consent") + ")"
    _set_ordered(lines, ordered_at=now, by=by, note=note)
    batch.state, batch.ordered_at, batch.ordered_by = PoliceBatch.State.ORDERED, now, by
    batch.save(update_fields=["state", "ordered_at", "ordered_by"])
    return batch


def _record_batch_events(lines, *, batch: PoliceBatch, action: str, by: User, at) -> None:
    """One timeline event per line put into, or taken out of, a batch (named in the note)."""
    record_events(
        {"line": line, "at": at, "actor": by, "action": action, "note": batch.reference}
        for line in lines
    )


def _set_ordered(lines, *, ordered_at, by: User, note: str) -> None:
    """Lines sent to the police (ordered_at set) or taken back (ordered_at None)."""
    now = timezone.now()
    to, action = (
        (OrderLine.Status.ORDERED, OrderEvent.Action.ORDERED)
        if ordered_at
        else (OrderLine.Status.NEW, OrderEvent.Action.ORDER_UNDONE)
    )
    for line in lines:
        line.ordered_at = ordered_at
        change_line_status(
            line=line,
            to=to,
            by=by,
            now=ordered_at or now,
            action=action,
            note=note,
            extra_fields=["ordered_at"],
        )


@transaction.atomic
def undo_batch_ordered(*, batch: PoliceBatch, by: User) -> PoliceBatch:
    """Take back "marked as ordered" on the same day, e.g. after clicking the wrong batch."""
    batch = _locked_batch(batch)
    if batch.state != PoliceBatch.State.ORDERED:
        raise OrderError(_("Only a batch marked as ordered can be undone."))
    if timezone.localdate(batch.ordered_at) != timezone.localdate():
        raise OrderError(_("Marking as ordered can only be undone on the same day."))
    lines = list(OrderLine.objects.select_for_update().filter(batch=batch))
    if any(line.status != OrderLine.Status.ORDERED for line in lines):
        raise OrderError(
            _("Some certificates in the batch have already moved on; it cannot be undone.")
        )
    _set_ordered(lines, ordered_at=None, by=by, note=batch.reference)
    batch.state, batch.ordered_at, batch.ordered_by = PoliceBatch.State.PREPARED, None, None
    batch.save(update_fields=["state", "ordered_at", "ordered_by"])
    return batch


@transaction.atomic
def release_batch(*, batch: PoliceBatch, by: User) -> PoliceBatch:
    """Dissolve a batch that was not sent: its lines wait for the next batch again."""
    batch = _locked_batch(batch)
    if batch.state != PoliceBatch.State.PREPARED:
        raise OrderError(_("Only a batch that has not been ordered can be dissolved."))
    lines = list(OrderLine.objects.select_for_update().filter(batch=batch))
    now = timezone.now()
    OrderLine.objects.filter(batch=batch).update(batch=None)
    _record_batch_events(lines, batch=batch, action=OrderEvent.Action.UNBATCHED, by=by, at=now)
    batch.state = PoliceBatch.State.RELEASED
    batch.save(update_fields=["state"])
    return batch


@transaction.atomic
def prepare_paper_batch(*, line: OrderLine, by: User) -> PoliceBatch:
    """A person exempt from Digital Post is ordered singly with the signed paper consent:
    a batch of one, so the order gets its own secret Rekvirent reference for payroll to
    type in at politi.dk. Opening the step again gives the same batch."""
    line = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("order", "batch")
        .get(pk=line.pk)
    )
    if line.status != OrderLine.Status.NEW or not line.order.digital_post_exempt:
        raise OrderError(_("This certificate is not waiting for a paper consent order."))
    if line.batch is not None:
        return line.batch
    return _new_batch([line], now=timezone.now(), by=by, on_paper=True)


@transaction.atomic
def mark_line_ordered_on_paper(*, line: OrderLine, by: User) -> OrderLine:
    """A person exempt from Digital Post: ordered singly, with the signed paper consent,
    under the reference of its batch of one."""
    batch = prepare_paper_batch(line=line, by=by)
    mark_batch_ordered(batch=batch, by=by)
    return OrderLine.objects.get(pk=line.pk)


def batch_lines(batch: PoliceBatch) -> list[OrderLine]:
    return list(
        batch.lines.select_related("order__unit", "person").order_by("order__created_at", "pk")
    )


def police_paste_text(lines: list[OrderLine]) -> str:
    """One person per line, as the police's "several persons" field takes them."""
    return "\n".join(f"{format_cpr(line.person.cpr)} {line.order.full_name}" for line in lines)


def requester_reference(batch: PoliceBatch) -> str:
    """The reference with its secret part: only payroll sees it, and a certificate that
    carries it was ordered in this batch."""
    return f"{batch.reference}-{batch.secret}" if batch.secret else batch.reference


def requester_text(batch: PoliceBatch) -> str:
    """For the police form's Rekvirent field; it comes back with the certificates."""
    return f"{requester_reference(batch)} {settings.MUNICIPALITY_NAME}"[:100]


def batch_csv(batch: PoliceBatch, lines: list[OrderLine]) -> str:
    # Danish Excel opens ; separated files. A name such as "-Hansen" gets the apostrophe
    # that keeps it text; Excel shows it without, so it is pasted as it was typed.
    return exports.csv_text(
        [_("CPR number"), _("Name"), _("Unit"), _("Certificate"), _("Legal basis"), _("Reference")],
        (
            [
                format_cpr(line.person.cpr),
                line.order.full_name,
                line.order.unit.name,
                batch.kind.name,
                batch.legal_basis.text,
                requester_reference(batch),
            ]
            for line in lines
        ),
        delimiter=";",
    )
