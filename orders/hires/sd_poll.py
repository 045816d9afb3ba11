"""SD Løn, polled by the beat schedule: employments changed since the last good poll are
planned and applied; a failed poll is recorded and payroll told once; employments that
could not be read are kept (encrypted) and tried again.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.cpr import hash_cpr
from portal.tabular import has_control_chars, shown

from ..models import HireImport, UnreadHire
from ..notifications import payroll_addresses, queue_email
from .applying import apply_plan
from .planning import MAX_EMPLOYMENT_ID, HirePlan, plan_hire_import, unit_names
from .sources import HireRecord, SDLoenSource, SourceError
from .staging import decrypt_records, encrypt_records

logger = logging.getLogger(__name__)


def poll_sd(*, today: datetime.date | None = None, source=None) -> HireImport | None:
    """Ask SD for employments changed since the last successful poll and apply them.
    A failed poll is recorded (visible to payroll) and the same period is asked again."""
    if not settings.SD_URL:
        return None
    today = today or timezone.localdate()
    last = (
        HireImport.objects.filter(source=HireImport.Source.SD, state=HireImport.State.APPLIED)
        .order_by("-period_end")
        .first()
    )
    first_failed = (
        HireImport.objects.filter(source=HireImport.Source.SD, state=HireImport.State.FAILED)
        .order_by("period_start")
        .first()
    )
    if last is not None:
        start = last.period_end
    elif first_failed is not None:
        start = first_failed.period_start  # the first poll never succeeded: ask it again
    else:
        start = today - datetime.timedelta(days=settings.SD_FIRST_POLL_DAYS)
    source = source or SDLoenSource.from_settings()
    record = HireImport(source=HireImport.Source.SD, period_start=start, period_end=today)
    try:
        plan = _fetch_and_apply(source, record, start=start, today=today)
    except SourceError as error:
        _record_failed_poll(record, str(error))
        return record
    except Exception as error:  # noqa: BLE001  a poll must end recorded, never crash
        # The type only: a database error may quote the value (a CPR number) that broke it.
        logger.exception("SD Løn poll failed: %s", type(error).__name__)
        _record_failed_poll(
            record,
            _("The poll failed unexpectedly (%(error)s); nothing has been changed.")
            % {"error": type(error).__name__},
        )
        return record
    if plan.errors:
        logger.warning("SD Løn poll: %s employments could not be read", len(plan.errors))
    return record


def _fetch_and_apply(source, record: HireImport, *, start, today) -> HirePlan:
    fetched = source.fetch(start=start, end=today)
    unread = list(UnreadHire.objects.filter(source=HireImport.Source.SD))
    records = _with_unread(fetched, unread)
    if hasattr(source, "fill_names"):
        source.fill_names(records, today=today)  # more calls to SD: outside the transaction
    with transaction.atomic():
        list(UnreadHire.objects.select_for_update().filter(pk__in=[u.pk for u in unread]))
        plan = plan_hire_import(records)
        # One employment SD sends that cannot be used must not hold back the others.
        apply_plan(plan)
        _record_unread(plan, unread, now=timezone.now())
        record.state, record.applied_at = HireImport.State.APPLIED, timezone.now()
        record.summary = plan.summary(unit_names(plan))
        record.save()
    return plan


def _record_failed_poll(record: HireImport, error: str) -> None:
    """Record why (payroll sees it on the import page) and tell payroll by e-mail, once
    for a run of polls failing for the same reason, not every hour SD is down."""
    polls = HireImport.objects.filter(source=HireImport.Source.SD)
    previous = polls.order_by("-created_at", "-id").first()
    record.pk = None
    record.state, record.error = HireImport.State.FAILED, error
    record.summary, record.applied_at = {}, None
    logger.warning("SD Løn poll failed: %s", error)
    record.save()
    if (
        previous is not None
        and previous.state == HireImport.State.FAILED
        and previous.error == error
    ):
        return
    queue_email(
        template="sd_poll_failed",
        key=f"sd-poll-{record.public_id}",
        to=payroll_addresses(),
        context={"error": error, "url": _hire_imports_url()},
    )


def _hire_imports_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("payroll:hire_imports")


def _unread_key(record: HireRecord) -> str:
    employment_id = record.employment_id
    if employment_id and len(employment_id) <= MAX_EMPLOYMENT_ID:
        if not has_control_chars(employment_id):
            return f"emp:{employment_id}"
    seen = "|".join(
        [record.full_name, record.unit, str(record.start_date), record.job_code, record.cpr]
    )
    return f"rec:{hash_cpr(seen)}"


def _with_unread(fetched: list[HireRecord], unread: list[UnreadHire]) -> list[HireRecord]:
    """What SD sent now, and the earlier employments that could not be read, unless SD
    sent a newer version of them."""
    keys = {_unread_key(r) for r in fetched}
    records = list(fetched)
    for item in unread:
        if item.key in keys or not item.payload_encrypted:
            continue
        (earlier,) = decrypt_records(item.payload_encrypted)
        earlier.row = len(records) + 1
        records.append(earlier)
    return records


def _record_unread(plan: HirePlan, unread: list[UnreadHire], *, now) -> None:
    """Keep every employment that could not be read, with the reason; forget the ones
    that now could."""
    earlier = {item.key: item for item in unread}
    still_bad = set()
    for hire_record, reason in plan.rejected:
        key = _unread_key(hire_record)
        still_bad.add(key)
        # Shown to payroll as read, but never with a NUL (it cannot be stored) or a CPR
        # number (a shifted column); the record itself is kept encrypted to try again.
        fields = {
            "employment_id": shown(hire_record.employment_id, 100),
            "full_name": shown(hire_record.full_name, 200),
            "unit": shown(hire_record.unit, 100),
            "start_date": shown(_shown_date(hire_record.start_date), 40),
            "reason": reason,
            "payload_encrypted": encrypt_records([hire_record]),
            "last_seen_at": now,
        }
        if key in earlier:
            item = earlier[key]
            for name, value in fields.items():
                setattr(item, name, value)
            item.attempts += 1
            item.save()
        else:
            # A poll running at the same time may have written the key since `unread`
            # was read: take its row over rather than fail the whole poll on the key.
            UnreadHire.objects.update_or_create(
                key=key,
                defaults={"source": HireImport.Source.SD, **fields},
                create_defaults={"source": HireImport.Source.SD, "first_seen_at": now, **fields},
            )
    UnreadHire.objects.filter(
        pk__in=[i.pk for k, i in earlier.items() if k not in still_bad]
    ).delete()


def _shown_date(value) -> str:
    """SD's ISO dates as payroll reads dates; anything else as it came."""
    try:
        return datetime.date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


def unread_hires():
    """Employments the web service sent that could not be used: payroll sees them."""
    return UnreadHire.objects.all()


def failed_polls():
    """The latest poll, when it failed: shown to payroll until a poll succeeds."""
    latest = (
        HireImport.objects.filter(source=HireImport.Source.SD)
        .order_by("-created_at", "-id")
        .first()
    )
    return latest if latest is not None and latest.state == HireImport.State.FAILED else None
