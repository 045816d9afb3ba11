"""Police batches: lines ordered together by hand at politi.dk."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import CertificateKind, LegalBasis


class PoliceBatch(models.Model):
    """Up to 50 lines of one kind and legal basis, ordered together by hand at politi.dk.

    A person exempt from Digital Post is ordered singly with a signed paper consent form:
    that order is a batch of one, flagged `on_paper`, so that its answer is tied to it by
    the same secret Rekvirent reference as any other batch's.
    """

    MAX_PERSONS = 50  # the police's limit per mass order

    class State(models.TextChoices):
        PREPARED = "prepared", _("Ready to order")
        ORDERED = "ordered", _("Ordered")
        RELEASED = "released", _("Dissolved")

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    # The unguessable part of the Rekvirent text, shown only to payroll: a certificate
    # that carries it was ordered in this batch. Empty for batches made before it existed.
    secret = models.CharField(max_length=20, blank=True, editable=False)
    on_paper = models.BooleanField(
        _("paper consent"),
        default=False,
        help_text=_("One person ordered singly at politi.dk with a signed paper consent form."),
    )
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
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("police batch")
        verbose_name_plural = _("police batches")
        indexes = [
            models.Index(fields=["state", "-ordered_at", "-id"], name="batch_state_ordered_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="ordered", ordered_at__isnull=False) | ~Q(state="ordered"),
                name="policebatch_ordered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.reference
