"""E-mails the portal sends, kept as records."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .hire import Hire
from .order import Order, OrderLine


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

    # What each template is about, as an administrator reads it in the admin.
    TEMPLATE_LABELS = {
        "consent_reminder": _("Reminder: consent not given"),
        "line_expired": _("Certificate not received in time"),
        "line_expired_payroll": _("Certificate not received in time (payroll)"),
        "start_soon": _("Start date close, certificate missing"),
        "hire_withdrawn": _("New hire withdrawn in the HR system"),
        "hire_reminder": _("Reminder: new hire without an order"),
        "duplicate_attempt": _("Order refused as a duplicate"),
        "line_refused": _("Refused by the police"),
        "decision": _("Payroll's decision"),
        "certificate_filed": _("Certificate filed"),
        "certificate_unmatched": _("Certificate without an order"),
        "certificate_flagged": _("Certificate to review"),
        "role_proposed": _("Role proposed"),
        "role_approved": _("Role granted"),
        "role_rejected": _("Role refused"),
        "monthly_report": _("Monthly report"),
    }

    # E-mails to administrators about the portal's own operation; every other template is
    # about a person (a hire's name, a certificate, payroll's decision).
    OPERATIONAL_TEMPLATES = frozenset(
        {
            "org_import_failed",
            "sd_poll_failed",
            "role_proposed",
            "role_approved",
            "role_rejected",
            "monthly_report",
        }
    )

    template = models.CharField(_("kind of e-mail"), max_length=50)
    key = models.CharField(
        _("key"),
        max_length=100,
        help_text=_("Makes the e-mail unique, e.g. 'line:12:day:7'."),
    )
    to = models.TextField(_("to"), help_text=_("Comma-separated recipients."))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, null=True, related_name="+"
    )
    line = models.ForeignKey(
        OrderLine,
        verbose_name=_("order line"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
    )
    # A reminder about a new hire names them: it is shown only to who may see the hire, and
    # forgotten with it.
    hire = models.ForeignKey(
        Hire,
        verbose_name=_("new hire"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="notification_state_idx")]

    def __str__(self) -> str:
        # The admin names e-mails by this; there an administrator must not read a hire's
        # name or payroll's decision, so only operational e-mails show their subject.
        shown = self.template_label if self.is_about_a_person else self.subject
        return f"{shown or self.template_label} → {self.to}"

    @property
    def is_about_a_person(self) -> bool:
        return self.template not in self.OPERATIONAL_TEMPLATES or bool(
            self.order_id or self.line_id or self.hire_id
        )

    @property
    def template_label(self) -> str:
        return str(self.TEMPLATE_LABELS.get(self.template, self.template))


class NotificationAttachment(models.Model):
    """A file sent with an e-mail, such as the monthly report's PDF.

    A row of its own rather than a column of the e-mail, so that lists of e-mails (the
    admin, a user's messages) never load files; a retry sends the very file queued.
    """

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("e-mail"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    name = models.CharField(_("file name"), max_length=100)
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name
