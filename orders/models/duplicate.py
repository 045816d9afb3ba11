"""An order refused because the person already has an open order in another unit."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import PositionProfile
from .order import OrderLine
from .person import Person


class DuplicateAttemptQuerySet(models.QuerySet):
    def open(self):
        """Not yet handled by payroll, with both orders at hand."""
        return self.filter(handled_at__isnull=True).select_related(
            "unit",
            "profile",
            "attempted_by",
            "person",
            "existing_line__kind",
            "existing_line__order__unit",
            "existing_line__order__created_by",
        )


class DuplicateAttempt(models.Model):
    """What a manager tried to order, kept for payroll beside the open line it collided
    with. The manager is only told that payroll will look at it: that another unit is
    hiring the same person is not theirs to know."""

    created_at = models.DateTimeField(default=timezone.now)
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    unit = models.ForeignKey(
        "portal.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    profile = models.ForeignKey(
        PositionProfile, verbose_name=_("position"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    full_name = models.CharField(_("name"), max_length=200)
    start_date = models.DateField(_("start date"))
    existing_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = DuplicateAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("order refused as a duplicate")
        verbose_name_plural = _("orders refused as duplicates")
        indexes = [models.Index(fields=["handled_at", "created_at"], name="duplicate_open_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.unit})"
