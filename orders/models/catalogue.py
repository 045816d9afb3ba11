"""The catalogue: certificate kinds, the legal bases on the police forms, and the
position profiles of each area with the certificates they require."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


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
        _("what is filed in the case system"),
        max_length=20,
        choices=FilingPolicy.choices,
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
    unit_type = models.ForeignKey(
        "portal.UnitType",
        verbose_name=_("unit type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="profiles",
        help_text=_("Offered only to units of this type. Empty: every unit in the area."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    renewal_years = models.PositiveSmallIntegerField(
        _("renew every (years)"),
        null=True,
        blank=True,
        help_text=_(
            "Staff in the position need a renewed check this many years after "
            "their certificate was cleared. Empty: never."
        ),
    )

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
            models.UniqueConstraint(
                fields=["profile", "legal_basis"], name="requirement_unique_basis_per_profile"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.legal_basis} ({self.get_level_display()})"

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

    @property
    def kind(self) -> CertificateKind:
        return self.legal_basis.kind


class ChildContactRule(models.Model):
    """An area whose order form asks whether the hire will be in contact with children,
    and the child-certificate purpose a "yes" adds."""

    area = models.OneToOneField(
        "portal.Area",
        verbose_name=_("area"),
        on_delete=models.CASCADE,
        related_name="child_contact_rule",
    )
    legal_basis = models.ForeignKey(
        LegalBasis,
        verbose_name=_("child certificate purpose when the hire has contact with children"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind__code": CertificateKind.Code.CHILD},
        help_text=_(
            "When set, the order form asks whether the new hire will have direct contact "
            "with children under 15 and, if so, adds a child certificate with this purpose."
        ),
    )

    class Meta:
        verbose_name = _("children question")
        verbose_name_plural = _("children questions")

    def __str__(self) -> str:
        return f"{self.area}: {self.legal_basis.text}"
