"""New hires reported by the HR/payroll system, the job codes that place them in a
position profile, and the imports that brought them in."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import PositionProfile
from .order import Order
from .person import Person


class JobCode(models.Model):
    """The HR system's job code (stillingskode) in one area, and the position it means.
    Without a profile the position needs no certificate."""

    area = models.ForeignKey(
        "portal.Area", verbose_name=_("area"), on_delete=models.CASCADE, related_name="job_codes"
    )
    code = models.CharField(_("job code"), max_length=40)
    title = models.CharField(_("title in the HR system"), max_length=200, blank=True)
    profile = models.ForeignKey(
        PositionProfile,
        verbose_name=_("position"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="job_codes",
        help_text=_("Empty: the position needs no certificate."),
    )

    class Meta:
        ordering = ["area", "code"]
        verbose_name = _("job code")
        verbose_name_plural = _("job codes")
        constraints = [
            models.UniqueConstraint(fields=["area", "code"], name="jobcode_unique_in_area"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()


class HireColumns(models.Model):
    """Which column of the HR system's new-hire report holds what (one row is used)."""

    employment_id = models.CharField(
        _("column: employment id"),
        max_length=100,
        default="Ansættelsesnummer",
        blank=True,
        help_text=_("Optional. Without it a hire is known by CPR number and start date."),
    )
    full_name = models.CharField(_("column: name"), max_length=100, default="Navn")
    cpr = models.CharField(_("column: CPR number"), max_length=100, default="CPR-nummer")
    unit = models.CharField(
        _("column: unit"),
        max_length=100,
        default="Afdeling",
        help_text=_("Matched against the unit's HR id, then its name."),
    )
    start_date = models.CharField(_("column: start date"), max_length=100, default="Startdato")
    job_code = models.CharField(_("column: job code"), max_length=100, default="Stillingskode")
    status = models.CharField(_("column: status"), max_length=100, default="Status", blank=True)
    withdrawn_values = models.CharField(
        _("status values meaning withdrawn"),
        max_length=200,
        default="Annulleret, Fratrådt",
        blank=True,
        help_text=_("Comma-separated, not case-sensitive."),
    )

    class Meta:
        verbose_name = _("new-hire report columns")
        verbose_name_plural = _("new-hire report columns")

    def __str__(self) -> str:
        return str(_("New-hire report columns"))


class HireQuerySet(models.QuerySet):
    def prompting(self):
        """Hires whose managers still have to order (or say no)."""
        return self.filter(status=Hire.Status.AWAITING_ORDER).select_related(
            "unit", "profile", "person"
        )


class Hire(models.Model):
    """A new hire reported by the HR system: prompts the unit's managers to order."""

    class Status(models.TextChoices):
        AWAITING_ORDER = "awaiting_order", _("Missing certificate order")
        ORDERED = "ordered", _("Ordered")
        NOT_NEEDED = "not_needed", _("Marked not needed by the manager")
        NONE_REQUIRED = "none_required", _("The position needs no certificate")
        UNMAPPED = "unmapped", _("Job code without a position")
        WITHDRAWN = "withdrawn", _("Withdrawn in the HR system")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Employment id from the HR system, or "<cpr hash>:<start date>": never the CPR itself.
    source_key = models.CharField(max_length=200, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="hires")
    full_name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(
        "portal.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="hires"
    )
    start_date = models.DateField(_("start date"))
    job_code = models.CharField(_("job code"), max_length=40)
    profile = models.ForeignKey(
        PositionProfile,
        verbose_name=_("position"),
        on_delete=models.PROTECT,
        null=True,
        related_name="hires",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, db_index=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="hires"
    )
    # Set when the position's renewal period ran out: the prompt is for a renewed check.
    renewal_due_since = models.DateField(_("renewal due since"), null=True, blank=True)
    not_needed_reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HireQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "full_name"]
        verbose_name = _("new hire")
        verbose_name_plural = _("new hires")
        indexes = [
            models.Index(fields=["unit", "status"], name="hire_unit_status_idx"),
            models.Index(fields=["status", "start_date"], name="hire_status_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.person.cpr_masked})"


class HireImport(models.Model):
    """One delivery of new hires (a file or a poll of the HR system's web service): its
    dry run, and whether it was applied. The content is kept encrypted until applied."""

    class Source(models.TextChoices):
        FILE = "file", _("File")
        SD = "sd", _("SD Løn web service")

    class State(models.TextChoices):
        DRY_RUN = "dry_run", _("Dry run, not applied")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        DISCARDED = "discarded", _("Discarded")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, db_index=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    payload_encrypted = models.TextField(blank=True)
    summary = models.JSONField(default=dict)
    error = models.TextField(_("error"), blank=True)
    # For web-service polls: the period asked for; a failed poll is asked again.
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("new-hire import")
        verbose_name_plural = _("new-hire imports")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.created_at:%Y-%m-%d %H:%M}"


class UnreadHire(models.Model):
    """An employment from the HR system's web service that could not be used (a date
    that is not a date, an unknown department, no CPR number): the rest of the poll is
    applied, this one is shown to payroll and tried again at every poll until it reads."""

    source = models.CharField(
        _("source"), max_length=10, choices=HireImport.Source.choices, default="sd"
    )
    # "emp:<employment id>" or a keyed hash of what was read: never a CPR number.
    key = models.CharField(max_length=200, unique=True)
    employment_id = models.CharField(_("employment id"), max_length=100, blank=True)
    full_name = models.CharField(_("name"), max_length=200, blank=True)
    unit = models.CharField(_("department"), max_length=100, blank=True)
    start_date = models.CharField(_("start date"), max_length=40, blank=True)
    reason = models.TextField(_("reason"))
    # The record as read, CPR included, encrypted: it is tried again from this.
    payload_encrypted = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last tried"), default=timezone.now)

    class Meta:
        ordering = ["first_seen_at", "pk"]
        verbose_name = _("employment that could not be read")
        verbose_name_plural = _("employments that could not be read")

    def __str__(self) -> str:
        # By the HR system's id, not the hire's name: the admin, where administrators see
        # these, shows no names of hires.
        return f"{self.employment_id or self.key[:12]}: {self.reason}"
