"""A new hire, known by CPR number: stored encrypted, found by keyed hash."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.cpr import decrypt_cpr, mask_cpr


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
