"""E-mails the portal sends, kept as records."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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

    template = models.CharField(max_length=50)
    key = models.CharField(
        max_length=100, help_text="Makes the notice unique, e.g. 'line:12:day:7'."
    )
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

    def __str__(self) -> str:
        return f"{self.subject or self.template} → {self.to}"
