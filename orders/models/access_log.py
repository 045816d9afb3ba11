"""Who looked at whose personal data (docs/architecture.md, D4)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .order import Order
from .person import Person


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
        LIST_HIRES = "list_hires", _("Saw a new hire in a list")
        EDIT_ORDER = "edit_order", _("Corrected the order")
        LIST_MESSAGES = "list_messages", _("Saw an e-mail about the order in their messages")

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

    def __str__(self) -> str:
        return f"{self.username} – {self.get_action_display()} ({self.at:%d.%m.%Y %H:%M})"
