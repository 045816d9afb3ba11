"""Orders, their lines (one certificate each, with a status) and the timeline."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import CertificateKind, LegalBasis, PositionProfile
from .person import Person


class OrderQuerySet(models.QuerySet):
    def for_listing(self):
        return self.select_related("unit", "person", "profile").prefetch_related(
            models.Prefetch(
                "lines", queryset=OrderLine.objects.select_related("kind", "replaced_by")
            )
        )


class Order(models.Model):
    """A manager's order for one new hire; each certificate kind is an OrderLine."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="orders")
    full_name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(
        "portal.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="orders"
    )
    profile = models.ForeignKey(
        PositionProfile,
        verbose_name=_("position"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    start_date = models.DateField(_("start date"))
    child_contact = models.BooleanField(_("direct contact with children under 15"), null=True)
    digital_post_exempt = models.BooleanField(
        _("exempt from Digital Post"),
        default=False,
        help_text=_("The new hire consents on a paper form instead of in Digital Post."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="orders_created",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # One value per rendered order form: a second submission of the same form
    # (a double click, a resent POST) finds the first order instead of making another.
    submission_token = models.UUIDField(unique=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        # One index per way the order list sorts, for payroll (every unit) and per unit;
        # name search has a pg_trgm index of its own (migration 0016, PostgreSQL only).
        indexes = [
            models.Index(fields=["unit", "-created_at", "-id"], name="order_unit_newest_idx"),
            models.Index(fields=["-created_at", "-id"], name="order_newest_idx"),
            models.Index(fields=["full_name", "id"], name="order_name_idx"),
            models.Index(fields=["unit", "full_name", "id"], name="order_unit_name_idx"),
            models.Index(fields=["start_date", "id"], name="order_start_idx"),
            models.Index(fields=["unit", "start_date", "id"], name="order_unit_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.person.cpr_masked})"

    @property
    def in_payroll_hands(self) -> bool:
        """Payroll has put a line in a police batch or ordered it: from then on only payroll
        corrects the order (uses the prefetched lines)."""
        return any(
            line.batch_id is not None
            or line.status not in (OrderLine.Status.NEW, OrderLine.Status.CANCELLED)
            for line in self.lines.all()
        )

    @property
    def police_asked(self) -> bool:
        """A line has been ordered at the police, who then hold the order's details."""
        return any(line.ordered_at is not None for line in self.lines.all())

    @property
    def has_open_lines(self) -> bool:
        """Any certificate still missing (uses the prefetched lines)."""
        return any(line.is_uncleared for line in self.lines.all())

    @property
    def hire_letter_applies(self) -> bool:
        """A letter to the new hire only while hiring goes ahead: not after "may not be
        employed", nor when every certificate was cancelled (uses the prefetched lines)."""
        statuses = [line.status for line in self.lines.all()]
        return OrderLine.Status.REJECTED not in statuses and any(
            status != OrderLine.Status.CANCELLED for status in statuses
        )


class OrderLineQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OrderLine.OPEN_STATUSES)

    def awaiting_police(self):
        """Lines payroll still has to order at politi.dk through a batch (Digital Post)."""
        return self.filter(
            status=OrderLine.Status.NEW, batch__isnull=True, order__digital_post_exempt=False
        ).select_related("order__unit", "order__created_by", "legal_basis__kind", "kind", "person")

    def awaiting_paper_consent(self):
        """Lines for people exempt from Digital Post: ordered one by one with a paper form."""
        return self.filter(
            status=OrderLine.Status.NEW, order__digital_post_exempt=True
        ).select_related("order__unit", "kind", "legal_basis", "person")

    def uncleared(self):
        """Lines still standing between the hire and the start: open ones, and expired or
        refused ones nobody has ordered again."""
        return self.filter(
            Q(status__in=OrderLine.OPEN_STATUSES)
            | Q(
                status__in=[OrderLine.Status.EXPIRED, OrderLine.Status.REFUSED],
                replaced_by__isnull=True,
            )
        )

    def starting_soon(self, *, today, days: int):
        """Uncleared lines whose hire starts within `days` days. Hires that have already
        started are payroll's compliance list, not a warning: without the lower bound every
        expired or refused line of past years would be visited again at every run."""
        return self.uncleared().filter(
            order__start_date__range=(today, today + timedelta(days=days))
        )


class OrderLine(models.Model):
    """One certificate for one person, with its own status and timeline."""

    class Status(models.TextChoices):
        NEW = "new", _("Awaiting order at the police")
        ORDERED = "ordered", _("Ordered – awaiting consent")
        IN_REVIEW = "in_review", _("Being assessed by payroll")
        CLEARED = "cleared", _("Cleared")
        REJECTED = "rejected", _("May not be employed")
        REFUSED = "refused", _("Refused")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.NEW, Status.ORDERED, Status.IN_REVIEW)
    # A certificate or refusal has come back for the line.
    ANSWERED_STATUSES = (Status.CLEARED, Status.IN_REVIEW, Status.REJECTED, Status.REFUSED)
    STATUS_HELP = {
        Status.NEW: _(
            "The order has been received. Payroll orders the certificate at the "
            "police, usually within one working day."
        ),
        Status.ORDERED: _(
            "The police have sent a consent request to the new hire's Digital "
            "Post. The new hire must consent with MitID within 14 days."
        ),
        Status.IN_REVIEW: _(
            "The certificate has arrived and is being assessed by payroll. "
            "You will be told the result."
        ),
        Status.CLEARED: _("The certificate has arrived and is cleared. The new hire may start."),
        Status.REJECTED: _(
            "Payroll has assessed the certificate: the new hire may not be "
            "employed in the position. Contact payroll for guidance."
        ),
        Status.REFUSED: _(
            "The police refused the order, usually because consent was not given "
            "in time. Order again."
        ),
        Status.EXPIRED: _(
            "No answer arrived in time. Order again if the certificate is still needed."
        ),
        Status.CANCELLED: _("The order was cancelled before it was sent to the police."),
    }

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # Denormalised from the order so the database itself can refuse a second open
    # line for the same person and kind.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="lines")
    kind = models.ForeignKey(
        CertificateKind, verbose_name=_("certificate"), on_delete=models.PROTECT, related_name="+"
    )
    legal_basis = models.ForeignKey(
        LegalBasis, verbose_name=_("legal basis"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    batch = models.ForeignKey(
        "PoliceBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    ordered_at = models.DateTimeField(_("ordered at the police"), null=True, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text=_("The expired line this one re-orders."),
    )

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["kind__sort_order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(status__in=["new", "ordered", "in_review"]),
                name="orderline_one_open_per_person_and_kind",
            ),
        ]
        # The statistics list the lines waiting longest at the police (status and age).
        indexes = [
            models.Index(fields=["status", "ordered_at"], name="orderline_status_ordered_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} – {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_uncleared(self) -> bool:
        return self.is_open or (
            self.status in (self.Status.EXPIRED, self.Status.REFUSED) and self.can_be_reordered
        )

    @property
    def status_help(self) -> str:
        return self.STATUS_HELP[self.status]

    @property
    def can_be_cancelled(self) -> bool:
        # Once payroll has put it in a batch, the clerk may be typing it in at politi.dk.
        return self.status == self.Status.NEW and self.batch_id is None

    @property
    def can_be_reordered(self) -> bool:
        return self.status in (self.Status.EXPIRED, self.Status.REFUSED) and not hasattr(
            self, "replaced_by"
        )


class OrderEvent(models.Model):
    """One entry of an order's timeline: who did what, when."""

    class Action(models.TextChoices):
        PLACED = "placed", _("Order placed")
        CANCELLED = "cancelled", _("Cancelled")
        BATCHED = "batched", _("Put in a police batch")
        UNBATCHED = "unbatched", _("Taken out of the police batch")
        ORDERED = "ordered", _("Ordered at the police")
        ORDER_UNDONE = "order_undone", _("Order at the police undone")
        REMINDED = "reminded", _("Consent reminder sent")
        EXPIRED = "expired", _("Expired without an answer")
        REORDERED = "reordered", _("Ordered again")
        START_SOON = "start_soon", _("Start date close without a certificate")
        RECEIVED = "received", _("Certificate received")
        SECOND_ANSWER = "second_answer", _("Another answer received: payroll looks at both")
        SECOND_ANSWER_SETTLED = "second_answer_settled", _("Payroll settled two answers")
        DECIDED = "decided", _("Payroll's decision")
        FILED = "filed", _("Filed in the case system")
        ANONYMISED = "anonymised", _("Anonymised after the retention period")
        EDITED = "edited", _("Order details corrected")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=OrderLine.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderLine.Status.choices, blank=True)
    note = models.TextField(blank=True)

    # Payroll's own steps with the police batches: not the manager's business.
    PAYROLL_INTERNAL = (Action.BATCHED, Action.UNBATCHED, Action.ORDER_UNDONE)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        # The statistics read events by kind over a period.
        indexes = [models.Index(fields=["action", "at"], name="orderevent_action_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.at:%d.%m.%Y %H:%M})"
