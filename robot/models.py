from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.answers import Decision

from .evaluation import Outcome


class RuleSet(models.Model):
    """One version of what the robot looks for in a returned document.

    A version that has judged documents is frozen: to change the rules, copy it to a
    new draft, edit the draft and activate it. Every evaluation names its version.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    is_active = models.BooleanField(_("active"), default=False)
    note = models.CharField(_("what changed"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("activated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("evaluation rules")
        verbose_name_plural = _("evaluation rules")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="ruleset_one_active"
            ),
        ]

    def __str__(self) -> str:
        return _("Rules version %(version)s") % {"version": self.version}

    @property
    def is_frozen(self) -> bool:
        return self.evaluations.exists()


class Phrase(models.Model):
    class Role(models.TextChoices):
        KIND = "kind", _("Identifies the certificate kind")
        CLEAN = "clean", _("Clean: no registration")
        REGISTRATION = "registration", _("Sign of a registration")
        REFUSAL = "refusal", _("Refusal")

    ruleset = models.ForeignKey(
        RuleSet, verbose_name=_("rules"), on_delete=models.CASCADE, related_name="phrases"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    kind = models.ForeignKey(
        "orders.CertificateKind",
        verbose_name=_("certificate kind"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Required for phrases that identify a kind; otherwise empty means every kind."),
    )
    text = models.CharField(
        _("text"),
        max_length=255,
        help_text=_(
            "Matched without regard to case, accents written differently, line breaks "
            "or hyphenation."
        ),
    )

    class Meta:
        ordering = ["role", "kind__sort_order", "text"]
        verbose_name = _("phrase")
        verbose_name_plural = _("phrases")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="kind") | Q(kind__isnull=False),
                name="phrase_kind_role_names_a_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Upload(models.Model):
    """One upload by a person, and where they stated its files came from. Only the
    municipality's own Digital Post mailbox is written to by authorities alone
    (docs/threat-model.md): a file from anywhere else may have been made by the hire."""

    class Origin(models.TextChoices):
        DIGITAL_POST = "digital_post", _("Fetched from the municipality's Digital Post mailbox")
        APPLICANT = "applicant", _("Sent by the applicant (e-mail, handed in)")
        PAPER = "paper", _("On paper, scanned")
        UNKNOWN = "unknown", _("Don't know")

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    origin = models.CharField(_("stated origin"), max_length=20, choices=Origin.choices)
    at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        constraints = [
            models.CheckConstraint(
                condition=Q(origin__in=["digital_post", "applicant", "paper", "unknown"]),
                name="upload_origin_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.by} – {self.get_origin_display()}"


class Document(models.Model):
    """A file the robot received. The original bytes are kept, whatever they are."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded")
        FOLDER = "folder", _("Drop folder")
        MAILBOX = "mailbox", _("Mailbox")
        ATTACHMENT = "attachment", _("Attached to a message")

    class State(models.TextChoices):
        RECEIVED = "received", _("Waiting to be read")
        UNREADABLE = "unreadable", _("Unreadable")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        NO_ORDER = "no_order", _("No order found")
        DUPLICATE = "duplicate", _("Duplicate")
        SECOND_ANSWER = "second_answer", _("Two answers to the same order")
        PROPOSED = "proposed", _("Robot's proposal: awaiting confirmation")
        NOT_CLEAN = "not_clean", _("Not clean: awaiting assessment")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting second approval")
        DONE = "done", _("Done")
        DISCARDED = "discarded", _("Discarded")

    QUEUE_STATES = (
        State.SECOND_ANSWER,
        State.PROPOSED,
        State.NOT_CLEAN,
        State.AWAITING_APPROVAL,
        State.NEEDS_REVIEW,
        State.UNREADABLE,
        State.NO_ORDER,
        State.DUPLICATE,
    )

    Outcome = Outcome

    sha256 = models.CharField(max_length=64, unique=True)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=100, unique=True)
    size = models.PositiveBigIntegerField()
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What its uploader stated about where the file came from; an attachment has its
    # message's. None for the drop folder and the mailbox.
    upload = models.ForeignKey(
        "Upload",
        verbose_name=_("upload"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.RECEIVED, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # What the document says about itself (from the PDF, or the forwarding notice).
    kind = models.ForeignKey(
        "orders.CertificateKind", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "orders.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    notice = models.JSONField(
        default=dict, blank=True, help_text="Notice lines of a forwarded message (CPR masked)."
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("returned document")
        verbose_name_plural = _("returned documents")

    def __str__(self) -> str:
        return self.original_name

    @property
    def latest_evaluation(self):
        return self.evaluations.order_by("-created_at", "-pk").first()

    @property
    def stated_upload(self) -> "Upload | None":
        """The upload statement this document came with (its message's, for an attachment)."""
        if self.upload_id:
            return self.upload
        return self.parent.upload if self.parent_id else None

    @property
    def in_queue(self) -> bool:
        return self.state in self.QUEUE_STATES

    @property
    def is_message(self) -> bool:
        """A forwarded message whose attachments became documents of their own."""
        return "attachments" in (self.notice or {}) and self.parent_id is None

    def message_attachments(self) -> list[dict]:
        """A message's attachments with the document each became (or had been before)."""
        listed = (self.notice or {}).get("attachments", [])
        documents = Document.objects.select_related("line__order", "line__kind").in_bulk(
            [entry["document"] for entry in listed]
        )
        return [
            {**entry, "document": documents[entry["document"]]}
            for entry in listed
            if entry["document"] in documents
        ]

    @property
    def result(self) -> tuple[str, str]:
        """What happened to the document, in a word for payroll, and its colour (css)."""
        if self.state == self.State.RECEIVED:
            return "pending", _("Being read…")
        if self.state == self.State.DISCARDED:
            return "discarded", _("Discarded")
        if self.is_message:
            return "message", _("Forwarded message")
        if self.state == self.State.NOT_CLEAN or self.state == self.State.AWAITING_APPROVAL:
            return "not_clean", _("Not clean: to assessment")
        outcomes = {
            Outcome.CLEAN: ("clean", _("Clean")),
            Outcome.NOT_CLEAN: ("not_clean", _("Not clean")),
            Outcome.REFUSED: ("refused", _("Refusal")),
        }
        if self.state == self.State.PROPOSED and self.outcome in outcomes:
            # In trial mode every answer is a proposal: say what the robot read, so a clean
            # one does not look like a doubt, and that a person still confirms it.
            css, label = outcomes[self.outcome]
            return css, _("Proposal: %(outcome)s – confirm") % {"outcome": label.lower()}
        if self.state in self.QUEUE_STATES:
            return "review", _("Needs review")
        return outcomes.get(self.outcome, ("review", _("Needs review")))


class Evaluation(models.Model):
    """What the rules said about a document, with the evidence for the reviewer."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="evaluations")
    ruleset = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="evaluations")
    kind_code = models.CharField(max_length=30)
    outcome = models.CharField(max_length=20, choices=Document.Outcome.choices)
    reason = models.TextField()
    evidence = models.JSONField(default=list)
    # Where the document came from: one entry per check (reference, mail, signature) with
    # whether it passed and why, for the reviewer.
    provenance = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.ruleset})"


class Assessment(models.Model):
    """Payroll's assessment of a certificate that is not clean."""

    Decision = Decision

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="assessments")
    relevance = models.TextField(_("relevance to the position"))
    discussed_with_applicant = models.BooleanField(_("discussed with the applicant"))
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    reason = models.TextField(_("reason"))
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assessed_at"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("assessed_by")),
                name="assessment_second_approver_differs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.assessed_at:%d.%m.%Y})"


class FilingJob(models.Model):
    """Filing one certificate (or its note) in the case system. The database is the truth:
    the broker only wakes workers up, and a job is claimed under a row lock."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        IN_PROGRESS = "in_progress", _("Being filed")
        FILED = "filed", _("Filed")
        FAILED = "failed", _("Failed, will be retried")
        MANUAL = "manual", _("Manual handling")
        # A second answer came for the line: nothing is filed until payroll has looked.
        HELD = "held", _("Held: two answers to the same order")
        REPLACED = "replaced", _("Not filed: replaced by a later answer")

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="filing")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="filings")
    reference = models.CharField(max_length=40, unique=True)
    with_note = models.BooleanField(default=False)
    with_certificate = models.BooleanField(default=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    uncertain = models.BooleanField(
        default=False, help_text="The last attempt may have filed the document without an answer."
    )
    last_error = models.TextField(blank=True)
    esdh_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    filed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="filing_due_idx"),
            # The filing page lists the most recently filed, and pages back through them.
            models.Index(fields=["state", "-filed_at", "-id"], name="filing_state_filed_idx"),
            models.Index(fields=["state", "created_at", "id"], name="filing_state_created_idx"),
            # The statistics count the jobs created in a period.
            models.Index(fields=["created_at"], name="filing_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="filed") | ~Q(esdh_reference=""),
                name="filing_filed_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} – {self.get_state_display()}"


class RateSlot(models.Model):
    """The next free moment to call a remote system: one row holds a limit for every
    worker and process, because they all take their slot from it under a row lock."""

    name = models.CharField(max_length=50, unique=True)
    next_slot_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rate limit")
        verbose_name_plural = _("rate limits")

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    """What the robot would have done with a certificate, waiting for a person to confirm or
    overrule it: every answer in trial mode, and a random share of clean ones after."""

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="proposal")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    kind = models.ForeignKey(
        "orders.CertificateKind",
        verbose_name=_("certificate kind"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    ruleset = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="proposals")
    proposed = models.CharField(_("the robot's outcome"), max_length=20, choices=Outcome.choices)
    sampled = models.BooleanField(
        _("drawn at random"),
        default=False,
        help_text=_("Drawn at random in automatic mode to keep checking the robot."),
    )
    decided = models.CharField(
        _("the person's outcome"), max_length=20, choices=Outcome.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("robot proposal")
        verbose_name_plural = _("robot proposals")
        indexes = [
            models.Index(fields=["kind", "ruleset", "decided"], name="proposal_agreement_idx"),
            # The statistics count the proposals made in a period.
            models.Index(fields=["created_at"], name="proposal_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided="") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="proposal_decision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(decided="") | Q(decided=F("proposed")) | ~Q(reason=""),
                name="proposal_overruling_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_proposed_display()} – {self.kind}"

    @property
    def is_open(self) -> bool:
        return not self.decided

    @property
    def confirmed(self) -> bool:
        return self.decided == self.proposed


class ModeSwitch(models.Model):
    """An administrator moved a certificate kind between trial and automatic mode. The
    latest switch made under the active rule version decides; without one, trial."""

    class Mode(models.TextChoices):
        TRIAL = "trial", _("Trial: a person confirms every answer")
        AUTOMATIC = "automatic", _("Automatic: the robot acts alone")

    kind = models.ForeignKey(
        "orders.CertificateKind",
        verbose_name=_("certificate kind"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    ruleset = models.ForeignKey(
        RuleSet, verbose_name=_("rules"), on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices)
    switched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("switched by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    switched_at = models.DateTimeField(_("switched"), default=timezone.now)
    confirmed = models.PositiveIntegerField(
        _("confirmed proposals"),
        default=0,
        help_text=_("Confirmed proposals under the rule version at the switch."),
    )

    class Meta:
        ordering = ["-switched_at", "-pk"]
        verbose_name = _("mode switch")
        verbose_name_plural = _("mode switches")

    def __str__(self) -> str:
        return f"{self.kind}: {self.get_mode_display()}"


# The statistics' summary ---------------------------------------------------------------
# Derived from the order timeline and the robot's documents (robot.statistics.summary keeps
# it current); nothing reads it but the statistics, and it can be rebuilt at any time.


class StatisticsLine(models.Model):
    """One order line as the statistics see it: unit, kind, status, the hire's start date
    and whether an answer came by then."""

    # No constraint and no cascade: a deleted line is marked stale by a trigger
    # (robot/statistics/triggers.py), and its summary rows go when it is summarised, with
    # the months they were counted in summed again.
    line = models.OneToOneField(
        "orders.OrderLine",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    unit = models.ForeignKey(
        "portal.Unit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.ForeignKey(
        "orders.CertificateKind", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=20)
    start_date = models.DateField()
    # An answer was recorded on or before the hire's start date.
    answered_by_start = models.BooleanField(default=False)
    placed_at = models.DateTimeField(null=True)
    received_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()  # an internal summary: nobody edits it
        indexes = [
            # Covering (PostgreSQL): hires who started before their answer are counted
            # from the index alone.
            models.Index(
                fields=["start_date"],
                include=["line", "unit", "status", "answered_by_start"],
                name="statline_start_idx",
            )
        ]

    def __str__(self) -> str:
        return f"line {self.line_id}"


class MonthCounts(models.Model):
    """What the statistics count in a month: the counts a line-month row holds and a
    unit-month row sums."""

    placed = models.PositiveIntegerField(default=0)  # placed or ordered again
    batched = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    received_by_robot = models.PositiveIntegerField(default=0)
    cleared_by_robot = models.PositiveIntegerField(default=0)
    filed_by_robot = models.PositiveIntegerField(default=0)
    filed_by_person = models.PositiveIntegerField(default=0)
    decided = models.PositiveIntegerField(default=0)
    # Filing jobs created this month, by their state now.
    filing_jobs = models.PositiveIntegerField(default=0)
    filing_filed = models.PositiveIntegerField(default=0)
    filing_retried = models.PositiveIntegerField(default=0)
    filing_failing = models.PositiveIntegerField(default=0)
    filing_manual = models.PositiveIntegerField(default=0)
    filing_waiting = models.PositiveIntegerField(default=0)
    # Trial-mode proposals made this month, and what the person decided.
    proposals = models.PositiveIntegerField(default=0)
    proposals_open = models.PositiveIntegerField(default=0)
    proposals_sampled = models.PositiveIntegerField(default=0)
    proposals_confirmed = models.PositiveIntegerField(default=0)
    proposals_overruled = models.PositiveIntegerField(default=0)
    proposals_dangerous = models.PositiveIntegerField(default=0)  # robot clean, person not

    class Meta:
        abstract = True


class StatisticsMonth(MonthCounts):
    """What happened to one order line in one month (the portal's time zone): the counts
    the statistics add up, so a period is a range of these rows and never the timeline."""

    line = models.ForeignKey(  # as StatisticsLine.line: kept until summarised again
        "orders.OrderLine", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    month = models.DateField()
    unit = models.ForeignKey(
        "portal.Unit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.ForeignKey(
        "orders.CertificateKind", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # On a month with an answer (received > 0): the line's hours from order to answer and
    # in each stage (None when the stage has not happened or its end came first), so lead
    # times read the same compact rows as the counts.
    total_hours = models.FloatField(null=True)
    batch_hours = models.FloatField(null=True)
    police_hours = models.FloatField(null=True)
    evaluation_hours = models.FloatField(null=True)
    review_hours = models.FloatField(null=True)
    filing_hours = models.FloatField(null=True)
    # On a month with an answer: the line's previous month with an answer, if any. A
    # period counts a line's hours on its first answered month in the period (the row
    # whose previous answer is before the period), so each line once, without sorting.
    answered_before = models.DateField(null=True)

    class Meta:
        default_permissions = ()  # an internal summary: nobody edits it
        constraints = [
            models.UniqueConstraint(fields=["line", "month"], name="statmonth_line_month_uniq")
        ]
        indexes = [
            models.Index(fields=["month", "unit", "kind"], name="statmonth_month_idx"),
            # The rows with an answer and their hours, for the lead times' percentiles read
            # from the index alone (PostgreSQL; elsewhere a plain partial index).
            models.Index(
                fields=["month"],
                include=[
                    "unit",
                    "kind",
                    "answered_before",
                    "total_hours",
                    "batch_hours",
                    "police_hours",
                    "evaluation_hours",
                    "review_hours",
                    "filing_hours",
                ],
                condition=Q(received__gt=0),
                name="statmonth_answered_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line_id} {self.month:%Y-%m}"


class StatisticsUnitMonth(MonthCounts):
    """The line-month rows of one unit, kind and month summed (about 1,500 rows a year
    against 25,000 line-months), so a page's counts read a year in a few hundred rows.
    Rewritten, whole months at a time, with the line-month rows it sums
    (summary.sum_months)."""

    month = models.DateField()
    unit = models.ForeignKey(
        "portal.Unit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.ForeignKey(
        "orders.CertificateKind", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        default_permissions = ()  # an internal summary: nobody edits it
        constraints = [
            models.UniqueConstraint(
                fields=["month", "unit", "kind"], name="statunitmonth_month_unit_kind_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"unit {self.unit_id} kind {self.kind_id} {self.month:%Y-%m}"


class StatisticsDocument(models.Model):
    """A document the robot judged, as the statistics see it: the month it arrived, the
    unit of the line it answers (None: no line), its kind, outcome and state, and whether
    it went to a person as a trial-mode proposal."""

    document = models.OneToOneField(
        Document, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField()
    unit = models.ForeignKey(
        "portal.Unit", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.ForeignKey(
        "orders.CertificateKind",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    outcome = models.CharField(max_length=20)
    state = models.CharField(max_length=20)
    proposed = models.BooleanField(default=False)

    class Meta:
        default_permissions = ()  # an internal summary: nobody edits it
        indexes = [
            models.Index(
                fields=["month", "unit", "kind"],
                include=["document", "outcome", "state", "proposed"],
                name="statdoc_month_idx",
            )
        ]

    def __str__(self) -> str:
        return f"document {self.document_id}"


class StatisticsStale(models.Model):
    """An order line or a document whose summary must be computed again. Written by
    database triggers (declared in robot/statistics/triggers.py) in the same transaction as
    the change, so no write, bulk or not, can be missed; emptied by beat's refresh."""

    line_id = models.BigIntegerField(null=True)
    document_id = models.BigIntegerField(null=True)

    class Meta:
        default_permissions = ()  # an internal summary: nobody edits it

    def __str__(self) -> str:
        return f"line {self.line_id} / document {self.document_id}"


class StatisticsState(models.Model):
    """One row: locked while the summary is refreshed, and when it last was (the time the
    statistics page shows)."""

    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()  # an internal summary: nobody edits it

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at}"
