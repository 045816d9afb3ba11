"""State changes of orders. Every change goes through here and writes a timeline event."""

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from portal.cpr import encrypt_cpr, hash_cpr
from portal.models import Unit, User
from portal.selectors import units_of

from .models import (
    AccessLog,
    DuplicateAttempt,
    LegalBasis,
    Order,
    OrderEvent,
    OrderLine,
    Person,
    PositionProfile,
)
from .notifications import payroll_addresses, payroll_url, queue_email
from .selectors import certificate_options
from .timeline import ALLOWED_MOVES, record_event, record_events


class Automatic:
    """The portal acting on its own (the robot, the schedule): the event has no user."""

    def __str__(self) -> str:
        return _("the system")


ROBOT = Automatic()
#: Who changes a line: a user, or ROBOT. Services take it explicitly, never by default.
Actor = User | Automatic


def actor_user(by: Actor) -> User | None:
    return by if isinstance(by, User) else None


class OrderError(Exception):
    """A state change that is not allowed; the message is fit for the user."""


class DuplicateElsewhere(OrderError):
    """The person has an open line in a unit the orderer cannot see: payroll looks at it."""

    def __init__(self, attempt: "DuplicateAttempt"):
        self.attempt = attempt
        super().__init__(
            _(
                "The order could not be placed right away: payroll must look at it first and "
                "will contact you. You do not need to do anything now."
            )
        )


class ResubmittedForm(OrderError):
    """A used order form came back with other data (e.g. after the browser's Back button)."""


class DuplicateOrder(OrderError):
    """The person already has an open line of this kind."""

    def __init__(self, line: OrderLine, *, kinds: Sequence[str] = ()):
        self.line = line
        # No name here: the existing order may belong to a unit the user cannot see.
        names = [kind.lower() for kind in kinds] or [line.kind.name.lower()]
        if len(names) == 1:
            message = _("This person already has an open order for a %(kind)s.") % {
                "kind": names[0]
            }
        else:
            each = [_("a %(kind)s") % {"kind": name} for name in names]
            message = _("This person already has open orders for %(kinds)s.") % {
                "kinds": _("%(first)s and %(last)s")
                % {"first": ", ".join(each[:-1]), "last": each[-1]}
            }
        super().__init__(message)


@sensitive_variables("cpr")
def get_or_create_person(*, cpr: str) -> Person:
    cpr_hash = hash_cpr(cpr)
    person = Person.objects.filter(cpr_hash=cpr_hash).first()
    if person is not None:
        return person
    try:
        with transaction.atomic():
            return Person.objects.create(cpr_hash=cpr_hash, cpr_encrypted=encrypt_cpr(cpr))
    except IntegrityError:
        # Another request created the person between our lookup and insert.
        return Person.objects.get(cpr_hash=cpr_hash)


@sensitive_variables("cpr")
def open_kind_names(*, cpr: str, kind_ids: Iterable[int], by: User) -> list[str]:
    """Every kind the person has an open line of, in the orderer's own units: a duplicate
    message names them all."""
    return list(
        OrderLine.objects.open()
        .filter(
            person__cpr_hash=hash_cpr(cpr),
            kind_id__in=list(kind_ids),
            order__unit__in=units_of(by),
        )
        .order_by("kind__sort_order")
        .values_list("kind__name", flat=True)
        .distinct()
    )


def find_open_line(*, cpr: str, kind_ids: Iterable[int]) -> OrderLine | None:
    return (
        OrderLine.objects.open()
        .filter(person__cpr_hash=hash_cpr(cpr), kind_id__in=list(kind_ids))
        .select_related("order", "kind")
        .first()
    )


@sensitive_variables("cpr")
def place_order(
    *,
    by: User,
    unit: Unit,
    profile: PositionProfile,
    full_name: str,
    cpr: str,
    start_date: datetime.date,
    legal_bases: Sequence[LegalBasis],
    child_contact: bool | None,
    submission_token: uuid.UUID,
    digital_post_exempt: bool = False,
) -> Order:
    """Create an order for one new hire with one line per certificate kind.

    Submitting the same form twice returns the first order. Raises DuplicateOrder when
    the person already has an open line of one of the kinds in a unit the orderer can
    see, and DuplicateElsewhere (after recording the attempt for payroll) when the open
    line is in another unit.
    """
    try:
        return _create_order(
            by=by,
            unit=unit,
            profile=profile,
            full_name=full_name,
            cpr=cpr,
            start_date=start_date,
            legal_bases=legal_bases,
            child_contact=child_contact,
            submission_token=submission_token,
            digital_post_exempt=digital_post_exempt,
        )
    except DuplicateOrder as duplicate:
        if units_of(by).filter(pk=duplicate.line.order.unit_id).exists():
            raise
        attempt = _record_duplicate_attempt(
            by=by,
            unit=unit,
            profile=profile,
            full_name=full_name,
            cpr=cpr,
            start_date=start_date,
            existing_line=duplicate.line,
        )
        raise DuplicateElsewhere(attempt) from None


@sensitive_variables("cpr")
@transaction.atomic
def _create_order(
    *,
    by: User,
    unit: Unit,
    profile: PositionProfile,
    full_name: str,
    cpr: str,
    start_date: datetime.date,
    legal_bases: Sequence[LegalBasis],
    child_contact: bool | None,
    submission_token: uuid.UUID,
    digital_post_exempt: bool,
) -> Order:
    existing = Order.objects.filter(submission_token=submission_token).first()
    if existing is not None:
        return _resubmitted(existing, by=by, cpr=cpr)
    if not units_of(by).filter(pk=unit.pk).exists():
        raise OrderError(_("You cannot order for this unit."))
    if profile.area_id != unit.area_id or not profile.is_active:
        raise OrderError(_("The position does not belong to the unit's area."))
    if not legal_bases:
        raise OrderError(_("Choose at least one certificate."))
    options = certificate_options(profile, child_contact=child_contact)
    chosen = {basis.pk for basis in legal_bases}
    if len(chosen) != len(legal_bases) or not chosen <= {o.basis.pk for o in options}:
        raise OrderError(_("The certificates do not match the position. Please choose again."))
    if not {o.basis.pk for o in options if o.required} <= chosen:
        raise OrderError(_("A certificate the position requires is missing."))
    kind_ids = [b.kind_id for b in legal_bases]
    duplicate = find_open_line(cpr=cpr, kind_ids=kind_ids)
    if duplicate is not None:
        raise DuplicateOrder(duplicate, kinds=open_kind_names(cpr=cpr, kind_ids=kind_ids, by=by))

    person = get_or_create_person(cpr=cpr)
    now = timezone.now()
    try:
        with transaction.atomic():
            order = Order.objects.create(
                person=person,
                full_name=full_name.strip(),
                unit=unit,
                profile=profile,
                start_date=start_date,
                child_contact=child_contact,
                digital_post_exempt=digital_post_exempt,
                created_by=by,
                created_at=now,
                submission_token=submission_token,
            )
            lines = OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    person=person,
                    kind_id=basis.kind_id,
                    legal_basis=basis,
                    status_changed_at=now,
                )
                for basis in legal_bases
            )
    except IntegrityError as error:
        # Lost a race with a concurrent submission: the same form, or another order
        # for the same person and kind. The constraints decided; report which.
        existing = Order.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            return _resubmitted(existing, by=by, cpr=cpr)
        duplicate = find_open_line(cpr=cpr, kind_ids=[b.kind_id for b in legal_bases])
        if duplicate is not None:
            raise DuplicateOrder(duplicate) from error
        raise
    record_events(
        {
            "line": line,
            "at": now,
            "actor": by,
            "action": OrderEvent.Action.PLACED,
            "to_status": OrderLine.Status.NEW,
        }
        for line in lines
    )
    log_access(user=by, action=AccessLog.Action.PLACE_ORDER, orders=[order])
    return order


@sensitive_variables("cpr")
@transaction.atomic
def _record_duplicate_attempt(
    *,
    by: User,
    unit: Unit,
    profile: PositionProfile,
    full_name: str,
    cpr: str,
    start_date: datetime.date,
    existing_line: OrderLine,
) -> DuplicateAttempt:
    """Keep what the manager tried to order, and tell payroll, who sees both orders.
    The same manager trying again for the same person adds nothing new."""
    person = get_or_create_person(cpr=cpr)
    earlier = DuplicateAttempt.objects.filter(
        handled_at__isnull=True, attempted_by=by, person=person, existing_line=existing_line
    ).first()
    if earlier is not None:
        return earlier
    attempt = DuplicateAttempt.objects.create(
        attempted_by=by,
        unit=unit,
        profile=profile,
        person=person,
        full_name=full_name.strip(),
        start_date=start_date,
        existing_line=existing_line,
    )
    queue_email(
        template="duplicate_attempt",
        key=f"duplicate:{attempt.pk}",
        to=payroll_addresses(),
        context={"attempt": attempt, "url": payroll_url()},
    )
    return attempt


@transaction.atomic
def mark_duplicate_handled(*, attempt: DuplicateAttempt, by: User) -> DuplicateAttempt:
    """Payroll has sorted out a refused duplicate with the units involved."""
    attempt = DuplicateAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.handled_at is None:
        attempt.handled_at, attempt.handled_by = timezone.now(), by
        attempt.save(update_fields=["handled_at", "handled_by"])
    return attempt


def _resubmitted(existing: Order, *, by: User, cpr: str) -> Order:
    """The same form came back: the first order, unless it now holds someone else."""
    if existing.created_by_id != by.pk or existing.person.cpr_hash != hash_cpr(cpr):
        raise ResubmittedForm(
            _(
                "This form has already been used for another order. Check the "
                "details and submit again."
            )
        )
    return existing


@dataclass(frozen=True)
class OrderCorrection:
    """What a correction changed, and whether the police hold the old details."""

    changes: list[str]
    tell_police: bool


def may_correct_order(*, order: Order, by: User) -> bool:
    """Managers correct their units' orders until payroll has them in hand; payroll always.
    The caller has already found the order through orders_visible_to."""
    if any(event.action == OrderEvent.Action.ANONYMISED for event in order.events.all()):
        return False
    if by.is_payroll:
        return True
    return (
        units_of(by).filter(pk=order.unit_id).exists()
        and order.has_open_lines
        and not order.in_payroll_hands
    )


def ensure_may_correct(*, order: Order, by: User) -> None:
    """Raise OrderError saying why, when `by` may not correct the order."""
    if may_correct_order(order=order, by=by):
        return
    if order.in_payroll_hands:
        raise OrderError(
            _(
                "Payroll is already ordering the certificates at the police. "
                "Contact payroll to have the order corrected."
            )
        )
    raise OrderError(_("This order can no longer be corrected."))


@sensitive_variables("cpr")
@transaction.atomic
def correct_order(
    *,
    order: Order,
    by: User,
    full_name: str,
    start_date: datetime.date,
    cpr: str = "",
) -> OrderCorrection:
    """Correct the new hire's name, start date or CPR number; one timeline event says what.

    Before payroll has the order in hand the orderer's managers may do it; afterwards
    only payroll, and once the police have been asked they must be told as well. The
    CPR number changes only before batching, checked for duplicates as a new order is.
    """
    order = (
        Order.objects.select_for_update()
        .select_related("person")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_for_update().order_by("pk"))
        )
        .get(pk=order.pk)
    )
    lines = list(order.lines.all())
    ensure_may_correct(order=order, by=by)
    changes = []
    full_name = full_name.strip()
    if full_name != order.full_name:
        changes.append(_("Name: %(old)s → %(new)s") % {"old": order.full_name, "new": full_name})
        order.full_name = full_name
    if start_date != order.start_date:
        changes.append(
            _("Start date: %(old)s → %(new)s")
            % {
                "old": formats.date_format(order.start_date, "j. F Y"),
                "new": formats.date_format(start_date, "j. F Y"),
            }
        )
        order.start_date = start_date
    if cpr and hash_cpr(cpr) != order.person.cpr_hash:
        _change_person(order=order, lines=lines, by=by, cpr=cpr)
        changes.append(_("CPR number corrected"))
    if not changes:
        return OrderCorrection(changes=[], tell_police=False)
    order.save(update_fields=["full_name", "start_date", "person"])
    tell_police = order.police_asked
    note = "; ".join(changes)
    if tell_police:
        note += ". " + _("The police have the old details and must be told.")
    record_event(order=order, actor=by, action=OrderEvent.Action.EDITED, note=note)
    log_access(user=by, action=AccessLog.Action.EDIT_ORDER, orders=[order])
    return OrderCorrection(changes=changes, tell_police=tell_police)


def _refuse_duplicate(duplicate: OrderLine | None, *, by: User) -> None:
    """A correction to a CPR number that already has an open line of the same kind: payroll
    and the managers of that line's unit are shown it; anyone else is never told that
    another unit is hiring the same person."""
    if duplicate is None:
        return
    if by.is_payroll or units_of(by).filter(pk=duplicate.order.unit_id).exists():
        raise DuplicateOrder(duplicate)
    raise OrderError(_("The CPR number cannot be changed right now. Contact payroll."))


@sensitive_variables("cpr")
def _change_person(*, order: Order, lines: list[OrderLine], by: User, cpr: str) -> None:
    if order.in_payroll_hands:
        raise OrderError(
            _(
                "The CPR number cannot be changed once payroll has the order in a police "
                "batch. Contact payroll."
            )
        )
    kind_ids = [line.kind_id for line in lines if line.is_open]
    _refuse_duplicate(find_open_line(cpr=cpr, kind_ids=kind_ids), by=by)
    person = get_or_create_person(cpr=cpr)
    try:
        with transaction.atomic():
            OrderLine.objects.filter(order=order).update(person=person)
    except IntegrityError:
        # An order for the same person and kind was placed at the same moment: the same
        # answer as if it had been there first.
        _refuse_duplicate(find_open_line(cpr=cpr, kind_ids=kind_ids), by=by)
        raise OrderError(
            _("The CPR number cannot be changed right now. Contact payroll.")
        ) from None
    order.person = person


@transaction.atomic
def cancel_line(*, line: OrderLine, by: User) -> OrderLine:
    """Cancel a certificate that has not been sent to the police yet."""
    line = OrderLine.objects.select_for_update().select_related("kind").get(pk=line.pk)
    if line.status == OrderLine.Status.CANCELLED:
        return line  # a double click: the first click did it
    if line.status == OrderLine.Status.NEW and line.batch_id is not None:
        raise OrderError(
            _(
                "Payroll is ordering this certificate at the police right now. Contact payroll "
                "if it should be cancelled."
            )
        )
    if not line.can_be_cancelled:
        raise OrderError(
            _("The certificate has already been sent to the police and cannot be cancelled here.")
        )
    change_line_status(
        line=line, to=OrderLine.Status.CANCELLED, by=by, action=OrderEvent.Action.CANCELLED
    )
    log_access(user=by, action=AccessLog.Action.CANCEL_LINE, orders=[line.order])
    return line


@transaction.atomic
def reorder_line(*, line: OrderLine, by: User) -> OrderLine:
    """Order an expired or refused certificate again: a new line on the same order."""
    line = OrderLine.objects.select_for_update().select_related("order", "kind").get(pk=line.pk)
    if not line.can_be_reordered:
        raise OrderError(_("Only an expired or refused certificate can be ordered again."))
    duplicate = OrderLine.objects.open().filter(person=line.person, kind=line.kind).first()
    if duplicate is not None and not units_of(by).filter(pk=duplicate.order.unit_id).exists():
        # Never say that another unit is hiring the same person.
        raise OrderError(_("The certificate cannot be ordered again right now. Contact payroll."))
    if duplicate is not None:
        raise DuplicateOrder(duplicate)
    now = timezone.now()
    new_line = OrderLine.objects.create(
        order=line.order,
        person=line.person,
        kind=line.kind,
        legal_basis=line.legal_basis,
        status_changed_at=now,
        replaces=line,
    )
    record_event(
        line=new_line,
        at=now,
        actor=by,
        action=OrderEvent.Action.REORDERED,
        to_status=OrderLine.Status.NEW,
    )
    return new_line


def change_line_status(
    *,
    line: OrderLine,
    to: str,
    by: Actor,
    action: str,
    note: str = "",
    now: datetime.datetime | None = None,
    extra_fields: Sequence[str] = (),
) -> bool:
    """Move a line to a status ALLOWED_MOVES lets it take and write the timeline event, in
    the caller's transaction; a move the table does not list raises OrderError.

    The update moves the line only if the database still has the status the caller read
    (the update takes the row lock), so a caller need not lock the line first. Returns
    whether it moved; if another transaction moved it meanwhile, nothing is written. A
    caller that holds the row lock always moves it."""
    seen = line.status
    if to not in ALLOWED_MOVES.get(seen, set()):
        raise OrderError(
            _("A certificate with the status “%(from)s” cannot be moved to “%(to)s”.")
            % {
                "from": OrderLine.Status(seen).label,
                "to": OrderLine.Status(to).label,
            }
        )
    now = now or timezone.now()
    changes = {
        "status": to,
        "status_changed_at": now,
        **{name: getattr(line, name) for name in extra_fields},
    }
    if not OrderLine.objects.filter(pk=line.pk, status=seen).update(**changes):
        return False
    line.status, line.status_changed_at = to, now
    record_event(
        line=line,
        at=now,
        actor=actor_user(by),
        action=action,
        from_status=seen,
        to_status=to,
        note=note,
    )
    return True


def log_person_access(
    *, user: User, action: str, entries: Iterable[tuple[int | None, int | None]]
) -> None:
    """Record that the user saw these persons' data: (person id, order id or None) each;
    entries without a person are about nobody and are skipped. The one writer of the
    access log (tests/test_architecture.py)."""
    now = timezone.now()
    AccessLog.objects.bulk_create(
        AccessLog(
            at=now,
            user=user,
            username=user.get_username(),
            person_id=person_id,
            order_id=order_id,
            action=action,
        )
        for person_id, order_id in entries
        if person_id is not None
    )


def log_access(*, user: User, action: str, orders: Iterable[Order]) -> None:
    """Record that the user saw these orders' personal data (one row per order)."""
    log_person_access(
        user=user, action=action, entries=[(order.person_id, order.pk) for order in orders]
    )
