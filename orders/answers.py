"""What comes back for an order line: a certificate's result, payroll's decision, the
filing in the case system, and forgetting an order when its retention period is over.

The robot decides *that* something happened; these services decide what it means for
the line, its timeline and the people who are told. They are the only way from the
robot into orders. Callers lock nothing: each service locks the line it changes.
"""

import uuid

from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.cpr import encrypt_cpr

from .models import Notification, Order, OrderEvent, OrderLine, Person
from .notifications import manager_addresses, order_url, queue_email
from .services import Actor, OrderError, actor_user, change_line_status
from .timeline import clear_correction_notes, record_event


class CertificateResult(models.TextChoices):
    """What a certificate (or the police's refusal) says about the line it answers."""

    CLEAN = "clean", gettext_lazy("Clean")
    NOT_CLEAN = "not_clean", gettext_lazy("Not clean")
    REFUSED = "refused", gettext_lazy("Refused")


class Decision(models.TextChoices):
    """Payroll's decision on a certificate that is not clean."""

    MAY_EMPLOY = "may_employ", gettext_lazy("May be employed")
    MAY_NOT_EMPLOY = "may_not_employ", gettext_lazy("May not be employed")
    FURTHER = "further", gettext_lazy("Further assessment needed")


ANONYMISED_NAME = "Anonymiseret"
# Real keys are hex digests of the CPR number, so this prefix can never collide with one.
ANONYMISED_HASH_PREFIX = "anon-"

_RESULT_STATUS = {
    CertificateResult.CLEAN: OrderLine.Status.CLEARED,
    CertificateResult.NOT_CLEAN: OrderLine.Status.IN_REVIEW,
    CertificateResult.REFUSED: OrderLine.Status.REFUSED,
}
_DECISION_STATUS = {
    Decision.MAY_EMPLOY: OrderLine.Status.CLEARED,
    Decision.MAY_NOT_EMPLOY: OrderLine.Status.REJECTED,
}


def _locked_line(line: OrderLine) -> OrderLine:
    return (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("order__unit", "order__created_by", "kind")
        .get(pk=line.pk)
    )


# No savepoint of its own: it runs once per received document inside the robot's
# transaction, and every caller lets a refusal (OrderError) end its whole transaction.
@transaction.atomic(savepoint=False)
def record_certificate_result(
    *, line: OrderLine, result: str, by: Actor, note: str = ""
) -> OrderLine:
    """A certificate answered the line: clean clears it, not clean puts it before payroll
    (the manager's timeline never says more), a refusal tells the manager to order again.

    An ordered line takes any result; a cleared line may only be reopened as not clean
    (payroll found a registration the robot missed). A refusal marks the caller's
    transaction for rollback: do not catch OrderError and carry on in it."""
    result = CertificateResult(result)
    to = _RESULT_STATUS[result]
    note = note or {
        CertificateResult.CLEAN: _("Clean"),
        CertificateResult.REFUSED: _("Refused"),
    }.get(result, "")
    answer = {"to": to, "by": by, "action": OrderEvent.Action.RECEIVED, "note": note}
    # The robot answers thousands of lines a day: first without a locking read (the update
    # moves the line only if it still has the status the caller read); if it changed since
    # (or never could take this answer), lock it and look again.
    if not (_may_answer(line.status, result) and change_line_status(line=line, **answer)):
        line = _locked_line(line)
        if not _may_answer(line.status, result):
            raise OrderError(_("The certificate line already has an answer."))
        change_line_status(line=line, **answer)
    if result == CertificateResult.REFUSED:
        order = line.order
        queue_email(
            template="line_refused",
            key=f"line:{line.pk}",
            to=manager_addresses(order),
            order=order,
            line=line,
            context={"order": order, "line": line, "url": order_url(order)},
        )
    return line


def _may_answer(status: str, result: CertificateResult) -> bool:
    reopening = status == OrderLine.Status.CLEARED and result == CertificateResult.NOT_CLEAN
    return status in (OrderLine.Status.NEW, OrderLine.Status.ORDERED) or reopening


# A line answered with these may be reopened by a second answer (it goes back to payroll).
_REOPENABLE = (OrderLine.Status.CLEARED, OrderLine.Status.REFUSED, OrderLine.Status.REJECTED)


@transaction.atomic(savepoint=False)
def reopen_for_second_answer(*, line: OrderLine, by: Actor) -> OrderLine:
    """Another document answers a line that has an answer (or one waiting for
    confirmation): the police send one certificate per kind for an ordered line, so two
    are a signal, not a race. An answered line goes back to payroll ("being assessed");
    the manager's timeline says payroll looks at both, never what either says."""
    line = _locked_line(line)
    if line.status in _REOPENABLE:
        change_line_status(
            line=line,
            to=OrderLine.Status.IN_REVIEW,
            by=by,
            action=OrderEvent.Action.SECOND_ANSWER,
        )
    else:
        record_event(line=line, actor=actor_user(by), action=OrderEvent.Action.SECOND_ANSWER)
    return line


def status_before_second_answer(line: OrderLine) -> str | None:
    """The status a second answer took the line from, if it moved it."""
    event = (
        line.events.filter(action=OrderEvent.Action.SECOND_ANSWER)
        .exclude(from_status=models.F("to_status"))
        .exclude(to_status="")
        .order_by("-at", "-pk")
        .first()
    )
    return event.from_status if event else None


@transaction.atomic
def settle_second_answer(
    *, line: OrderLine, by: Actor, note: str, result: str | None = None, restore: bool = False
) -> OrderLine:
    """Payroll has looked at two answers to one line. Either the earlier answer stands
    (`restore`: the line gets back the status the second answer took it from), or the later
    one replaces it (`result`: what that certificate says, as for a first answer)."""
    line = _locked_line(line)
    if restore:
        before = status_before_second_answer(line)
        if before and line.status == OrderLine.Status.IN_REVIEW and before != line.status:
            change_line_status(
                line=line,
                to=before,
                by=by,
                action=OrderEvent.Action.SECOND_ANSWER_SETTLED,
                note=note,
            )
            return line
    elif result is not None:
        to = _RESULT_STATUS[CertificateResult(result)]
        if line.status in (
            OrderLine.Status.NEW,
            OrderLine.Status.ORDERED,
            OrderLine.Status.IN_REVIEW,
        ):
            if to != line.status:
                change_line_status(
                    line=line,
                    to=to,
                    by=by,
                    action=OrderEvent.Action.SECOND_ANSWER_SETTLED,
                    note=note,
                )
                return line
        else:
            raise OrderError(_("The certificate line already has an answer."))
    record_event(
        line=line, actor=actor_user(by), action=OrderEvent.Action.SECOND_ANSWER_SETTLED, note=note
    )
    return line


@transaction.atomic
def record_decision(*, line: OrderLine, decision: str, by: Actor, key: str) -> OrderLine:
    """Payroll's decision on a not-clean certificate; the manager learns the decision only.

    `key` makes the manager's e-mail go out once per assessment."""
    decision = Decision(decision)
    line = _locked_line(line)
    if line.status != OrderLine.Status.IN_REVIEW:
        raise OrderError(_("The certificate is not being assessed by payroll."))
    status = _DECISION_STATUS.get(decision)
    if status is None:
        record_event(
            line=line, actor=actor_user(by), action=OrderEvent.Action.DECIDED, note=decision.label
        )
    else:
        change_line_status(
            line=line, to=status, by=by, action=OrderEvent.Action.DECIDED, note=decision.label
        )
    order = line.order
    queue_email(
        template="decision",
        key=key,
        to=manager_addresses(order),
        order=order,
        line=line,
        context={"order": order, "line": line, "decision": decision.label, "url": order_url(order)},
    )
    return line


@transaction.atomic
def record_filed(*, line: OrderLine, by: Actor, key: str, decision: str | None = None) -> OrderLine:
    """The certificate (or its note) is in the case system; the manager is told once."""
    line = _locked_line(line)
    record_event(line=line, actor=actor_user(by), action=OrderEvent.Action.FILED)
    order = line.order
    queue_email(
        template="certificate_filed",
        key=key,
        to=manager_addresses(order),
        order=order,
        line=line,
        context={
            "order": order,
            "line": line,
            "url": order_url(order),
            "decision": Decision(decision).label if decision else None,
        },
    )
    return line


def anonymise_order(*, order: Order, by: Actor) -> None:
    """Forget the hire's name in the order, in the e-mails about it and in the notes of its
    corrections (a locked order)."""
    order.full_name = ANONYMISED_NAME
    order.save(update_fields=["full_name"])
    Notification.objects.filter(Q(order=order) | Q(line__order=order)).update(subject="", body="")
    clear_correction_notes(order=order)
    record_event(order=order, actor=actor_user(by), action=OrderEvent.Action.ANONYMISED)


def anonymise_person(*, person: Person) -> None:
    """Forget a person's CPR number (a locked person whose orders are all anonymised)."""
    # An encrypted empty string rather than "": it holds no CPR number, and every page that
    # shows the masked number (order lists, receipts) keeps working for anonymised orders.
    person.cpr_encrypted = encrypt_cpr("")
    person.cpr_hash = f"{ANONYMISED_HASH_PREFIX}{uuid.uuid4().hex}"
    person.save(update_fields=["cpr_encrypted", "cpr_hash"])
