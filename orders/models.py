import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cpr import decrypt_cpr, mask_cpr


class CertificateKind(models.Model):
    """A police certificate form: børneattest, offentlig or privat straffeattest."""

    class Code(models.TextChoices):
        CHILD = "child", _("Child certificate")
        CRIMINAL_PUBLIC = "criminal_public", _("Public criminal-record certificate")
        CRIMINAL_PRIVATE = "criminal_private", _("Private criminal-record certificate")

    code = models.CharField(_("code"), max_length=30, choices=Code.choices, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    class FilingPolicy(models.TextChoices):
        CERTIFICATE = "certificate", _("File the certificate itself")
        NOTE = "note", _("File only a note (the certificate is not kept)")

    filing_policy = models.CharField(
        _("what is filed in the case system"), max_length=20, choices=FilingPolicy.choices,
        default=FilingPolicy.CERTIFICATE,
    )
    police_form_url = models.URLField(
        _("police order form"),
        blank=True,
        help_text=_("The page at politi.dk where this certificate is ordered for several persons."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("certificate kind")
        verbose_name_plural = _("certificate kinds")

    def __str__(self) -> str:
        return self.name


class LegalBasis(models.Model):
    """The purpose or legal basis stated on the police form for one kind."""

    kind = models.ForeignKey(
        CertificateKind,
        verbose_name=_("certificate kind"),
        on_delete=models.PROTECT,
        related_name="legal_bases",
    )
    text = models.CharField(_("text on the police form"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind__sort_order", "text"]
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        constraints = [
            models.UniqueConstraint(fields=["kind", "text"], name="legalbasis_unique_text"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


class PositionProfile(models.Model):
    """A kind of position in one area and the certificates it needs."""

    area = models.ForeignKey(
        "portal.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="profiles"
    )
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("position profile")
        verbose_name_plural = _("position profiles")
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="profile_unique_name_in_area"),
        ]

    def __str__(self) -> str:
        return self.name


class ProfileRequirement(models.Model):
    class Level(models.TextChoices):
        REQUIRED = "required", _("Required")
        OPTIONAL = "optional", _("Optional")

    profile = models.ForeignKey(
        PositionProfile,
        verbose_name=_("position profile"),
        on_delete=models.CASCADE,
        related_name="requirements",
    )
    legal_basis = models.ForeignKey(
        LegalBasis, verbose_name=_("legal basis"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(
        _("level"), max_length=10, choices=Level.choices, default=Level.REQUIRED
    )

    class Meta:
        ordering = ["legal_basis__kind__sort_order"]
        verbose_name = _("certificate requirement")
        verbose_name_plural = _("certificate requirements")
        constraints = [
            models.UniqueConstraint(fields=["profile", "legal_basis"],
                                    name="requirement_unique_basis_per_profile"),
        ]

    def clean(self) -> None:
        if not (self.profile_id and self.legal_basis_id):
            return
        siblings = ProfileRequirement.objects.filter(
            profile_id=self.profile_id, legal_basis__kind_id=self.legal_basis.kind_id
        ).exclude(pk=self.pk)
        if siblings.exists():
            raise ValidationError(
                _("The position already has a requirement for this kind of certificate.")
            )

    def __str__(self) -> str:
        return f"{self.legal_basis} ({self.get_level_display()})"

    @property
    def kind(self) -> CertificateKind:
        return self.legal_basis.kind


class Person(models.Model):
    """A new hire, identified by CPR. The number is stored encrypted and found by keyed hash."""

    cpr_hash = models.CharField(max_length=64, unique=True)
    cpr_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return self.cpr_masked

    @property
    def cpr(self) -> str:
        """The full number. Only payroll's police batches should ever need it."""
        return decrypt_cpr(self.cpr_encrypted)

    @property
    def cpr_masked(self) -> str:
        return mask_cpr(self.cpr)


class OrderQuerySet(models.QuerySet):
    def for_listing(self):
        return self.select_related("unit", "person", "profile").prefetch_related(
            models.Prefetch("lines", queryset=OrderLine.objects.select_related("kind",
                                                                               "replaced_by"))
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
        indexes = [models.Index(fields=["unit", "-created_at"], name="order_unit_created_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.person.cpr_masked})"

    @property
    def has_open_lines(self) -> bool:
        """Any certificate still missing (uses the prefetched lines)."""
        return any(line.is_uncleared for line in self.lines.all())


class OrderLineQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OrderLine.OPEN_STATUSES)

    def awaiting_police(self):
        """Lines payroll still has to order at politi.dk through a batch (Digital Post)."""
        return self.filter(
            status=OrderLine.Status.NEW, batch__isnull=True, order__digital_post_exempt=False
        ).select_related("order__unit", "kind", "legal_basis", "person")

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
            | Q(status__in=[OrderLine.Status.EXPIRED, OrderLine.Status.REFUSED],
                replaced_by__isnull=True)
        )

    def starting_soon(self, *, today, days: int):
        """Uncleared lines whose hire starts within `days` days."""
        return self.uncleared().filter(order__start_date__lte=today + timedelta(days=days))


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
    STATUS_HELP = {
        Status.NEW: _("The order has been received. Payroll orders the certificate at the "
                      "police, usually within one working day."),
        Status.ORDERED: _("The police have sent a consent request to the new hire's Digital "
                          "Post. The new hire must consent with MitID within 14 days."),
        Status.IN_REVIEW: _("The certificate has arrived and is being assessed by payroll. "
                            "You will be told the result."),
        Status.CLEARED: _("The certificate has arrived and is cleared. The new hire may start."),
        Status.REJECTED: _("Payroll has assessed the certificate: the new hire may not be "
                           "employed in the position. Contact payroll for guidance."),
        Status.REFUSED: _("The police refused the order, usually because consent was not given "
                          "in time. Order again."),
        Status.EXPIRED: _("No answer arrived in time. Order again if the certificate is still "
                          "needed."),
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
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by",
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

    def __str__(self) -> str:
        return f"{self.kind} – {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_uncleared(self) -> bool:
        return self.is_open or (
            self.status in (self.Status.EXPIRED, self.Status.REFUSED) and self.can_be_reordered)

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
        DECIDED = "decided", _("Payroll's decision")
        FILED = "filed", _("Filed in the case system")

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

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")


class AccessLog(models.Model):
    """Who looked at whose personal data, and how: answers data subjects' requests."""

    class Action(models.TextChoices):
        VIEW_ORDER = "view_order", _("Viewed the order")
        LIST_ORDERS = "list_orders", _("Saw the order in a list")
        PLACE_ORDER = "place_order", _("Placed the order")
        CANCEL_LINE = "cancel_line", _("Cancelled a certificate")
        VIEW_BATCH = "view_batch", _("Saw the full CPR number in a police batch")
        DOWNLOAD_BATCH = "download_batch", _("Downloaded a police batch as CSV")
        DOWNLOAD_LETTER = "download_letter", _("Downloaded a letter")
        VIEW_DOCUMENT = "view_document", _("Viewed a returned certificate")
        LIST_DOCUMENTS = "list_documents", _("Saw a returned certificate in a list")
        HANDLE_DOCUMENT = "handle_document", _("Handled a returned certificate")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept beside the foreign key so the log still names the user after they are deleted.
    username = models.CharField(max_length=150)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, related_name="access_log"
    )
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("access-log entry")
        verbose_name_plural = _("access log")


class PoliceBatch(models.Model):
    """Up to 50 lines of one kind and legal basis, ordered together by hand at politi.dk."""

    MAX_PERSONS = 50  # the police's limit per mass order

    class State(models.TextChoices):
        PREPARED = "prepared", _("Ready to order")
        ORDERED = "ordered", _("Ordered")
        RELEASED = "released", _("Dissolved")

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    kind = models.ForeignKey(CertificateKind, on_delete=models.PROTECT, related_name="+")
    legal_basis = models.ForeignKey(LegalBasis, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PREPARED, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    ordered_at = models.DateTimeField(null=True, blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("police batch")
        verbose_name_plural = _("police batches")
        constraints = [
            models.CheckConstraint(
                condition=Q(state="ordered", ordered_at__isnull=False) | ~Q(state="ordered"),
                name="policebatch_ordered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Notification(models.Model):
    """An e-mail the portal sends, kept as a record: to whom, when, which template, why.

    Rows are written in the same transaction as the state change that causes them and
    sent afterwards by a task; a failed send stays visible with its error and is retried.
    The unique key makes each reminder go out once however often the schedule runs.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    template = models.CharField(max_length=50)
    key = models.CharField(max_length=100, help_text="Makes the notice unique, e.g. 'line:12:day:7'.")
    to = models.TextField(help_text="Comma-separated recipients.")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, related_name="+")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, null=True, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="notification_state_idx")]
