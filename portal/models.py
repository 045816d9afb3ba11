from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. Orderers get their reach from memberships of units."""

    is_payroll = models.BooleanField(
        _("payroll"),
        default=False,
        help_text=_("Payroll clerks see every order, batch orders to the police and review."),
    )
    welcome_dismissed_at = models.DateTimeField(_("welcome banner dismissed"), null=True,
                                                blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Area(models.Model):
    """A forvaltning: decides which certificates its units may order."""

    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An institution or department inside an area (a school, a care home)."""

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="units"
    )
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="unit_unique_name_in_area"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        SECRETARY = "secretary", _("Secretary")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="membership_unique_user_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.unit} ({self.get_role_display()})"


class WelcomeSection(models.Model):
    """A section of the welcome pack for staff who order certificates.

    Sections without an area are for everyone; a section for an area replaces the
    general one on the same topic for that area's staff. The body is plain text:
    blank lines separate paragraphs and lines starting with "- " make a list.
    """

    class Topic(models.TextChoices):
        TASK = "task", _("The task")
        HOW_TO_ORDER = "how_to_order", _("How to order")
        STATUSES = "statuses", _("What the statuses mean")
        NEW_HIRE = "new_hire", _("What to tell the new hire")
        DATA_PROTECTION = "data_protection", _("Data protection")
        FAQ = "faq", _("Questions and answers")

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="welcome_sections", help_text=_("Empty: shown to everyone."),
    )
    topic = models.CharField(_("topic"), max_length=30, choices=Topic.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_('Plain text. A blank line starts a new paragraph; lines starting with '
                    '"- " become a bulleted list. HTML is shown as text.'),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("welcome-pack section")
        verbose_name_plural = _("welcome-pack sections")
        constraints = [
            models.UniqueConstraint(fields=["area", "topic"], name="welcome_one_per_area_topic"),
            models.UniqueConstraint(fields=["topic"], condition=models.Q(area__isnull=True),
                                    name="welcome_one_general_per_topic"),
        ]

    def __str__(self) -> str:
        return self.title
