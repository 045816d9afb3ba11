from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. Orderers get their reach from memberships of units."""

    is_payroll = models.BooleanField(
        _("payroll"),
        default=False,
        help_text=_("Payroll clerks see every order, batch orders to the police and review."),
    )
    welcome_dismissed_at = models.DateTimeField(
        _("welcome banner dismissed"), null=True, blank=True
    )
    # The identity provider's stable subject id: the key of a single sign-on user
    # (never the e-mail, which is reused and renamed).
    sso_subject = models.CharField(
        _("single sign-on subject"),
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        editable=False,
    )

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


class UnitType(models.Model):
    """What kind of institution a unit is (school, daycare, club): position profiles can be
    limited to one type, so a daycare is not offered a teacher."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("unit type")
        verbose_name_plural = _("unit types")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An institution or department inside an area (a school, a care home)."""

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="units"
    )
    name = models.CharField(_("name"), max_length=200)
    unit_type = models.ForeignKey(
        UnitType,
        verbose_name=_("unit type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        help_text=_("Empty: the unit is offered every position profile of its area."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Kept in step with the HR system by the organisation import (portal/org_import.py).
    external_id = models.CharField(_("HR id"), max_length=50, unique=True, null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

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

    class Source(models.TextChoices):
        MANUAL = "manual", _("Made by hand")
        SSO = "sso", _("From the login's groups")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)
    # Memberships from groups are replaced at every single sign-on login; hand-made ones
    # are never touched by it.
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL, db_index=True
    )

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
        Area,
        verbose_name=_("area"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="welcome_sections",
        help_text=_("Empty: shown to everyone."),
    )
    topic = models.CharField(_("topic"), max_length=30, choices=Topic.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Plain text. A blank line starts a new paragraph; lines starting with "
            '"- " become a bulleted list. HTML is shown as text.'
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("welcome-pack section")
        verbose_name_plural = _("welcome-pack sections")
        constraints = [
            models.UniqueConstraint(fields=["area", "topic"], name="welcome_one_per_area_topic"),
            models.UniqueConstraint(
                fields=["topic"],
                condition=models.Q(area__isnull=True),
                name="welcome_one_general_per_topic",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class GroupMapping(models.Model):
    """What a group at the identity provider gives its members in the portal."""

    class Grants(models.TextChoices):
        MEMBERSHIP = "membership", _("Membership of a unit")
        PAYROLL = "payroll", _("Payroll role")
        ADMINISTRATOR = "administrator", _("Administrator role")

    group_id = models.CharField(
        _("group id"),
        max_length=255,
        db_index=True,
        help_text=_(
            "As the identity provider sends it in the groups claim (in Entra ID "
            "the group's object id)."
        ),
    )
    label = models.CharField(_("description"), max_length=200, blank=True)
    grants = models.CharField(
        _("grants"), max_length=20, choices=Grants.choices, default=Grants.MEMBERSHIP
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="group_mappings",
    )
    membership_role = models.CharField(
        _("role in the unit"), max_length=20, choices=Membership.Role.choices, blank=True
    )
    # A mapping to the payroll or administrator role counts at login only once a second
    # administrator has approved it (portal/roles.py); membership mappings count at once.
    # False by default, so a role mapping made any other way gives nothing by accident.
    approved = models.BooleanField(_("approved"), default=False, editable=False)

    class Meta:
        ordering = ["group_id", "pk"]
        verbose_name = _("group mapping")
        verbose_name_plural = _("group mappings")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(grants="membership", unit__isnull=False)
                    & ~models.Q(membership_role="")
                )
                | (
                    ~models.Q(grants="membership") & models.Q(unit__isnull=True, membership_role="")
                ),
                name="groupmapping_unit_iff_membership",
            ),
            # One mapping per group and what it grants; two partial constraints rather than
            # nulls_distinct=False, which SQLite (the demo's database) cannot enforce.
            models.UniqueConstraint(
                fields=["group_id", "grants", "unit"],
                condition=models.Q(unit__isnull=False),
                name="groupmapping_unique",
            ),
            models.UniqueConstraint(
                fields=["group_id", "grants"],
                condition=models.Q(unit__isnull=True),
                name="groupmapping_unique_role",
            ),
        ]

    def __str__(self) -> str:
        target = (
            f"{self.unit} ({self.get_membership_role_display()})"
            if self.grants == self.Grants.MEMBERSHIP
            else self.get_grants_display()
        )
        return f"{self.label or self.group_id} → {target}"

    @property
    def gives_role(self) -> bool:
        return self.grants in (self.Grants.PAYROLL, self.Grants.ADMINISTRATOR)

    @property
    def in_effect(self) -> bool:
        return not self.gives_role or self.approved


class RoleGrant(models.Model):
    """A proposal to give someone, or every member of a provider group (a group
    mapping), the payroll or administrator role; a second administrator must approve it
    before it takes effect."""

    class Role(models.TextChoices):
        PAYROLL = "payroll", _("Payroll")
        ADMINISTRATOR = "administrator", _("Administrator")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Replaced by a later change")

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_grants",
    )
    group_mapping = models.ForeignKey(
        GroupMapping,
        verbose_name=_("group mapping"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="role_grants",
    )
    # What a group mapping said when it was proposed: the approver reads this, and it
    # stays on record if the mapping is later deleted.
    target = models.CharField(_("group"), max_length=500, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PROPOSED, db_index=True
    )
    proposed_by = models.ForeignKey(
        User, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(state="proposed"),
                name="rolegrant_one_open_per_user_role",
            ),
            models.UniqueConstraint(
                fields=["group_mapping"],
                condition=models.Q(state="proposed"),
                name="rolegrant_one_open_per_group_mapping",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) | models.Q(group_mapping__isnull=True),
                name="rolegrant_user_or_group_mapping",
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("proposed_by")),
                name="rolegrant_not_own_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grantee}: {self.get_role_display()} ({self.get_state_display()})"

    @property
    def grantee(self) -> str:
        if self.user_id:
            return str(self.user)
        return _("members of the group %(group)s") % {"group": self.target}


class OrgImport(models.Model):
    """One import of the organisation (an upload, the drop folder or SD Løn): what it
    changed, or why it changed nothing. Each changed unit is also in the audit log."""

    class Source(models.TextChoices):
        FILE = "file", _("Uploaded file")
        FOLDER = "folder", _("Drop folder")
        SD = "sd", _("SD Løn web service")

    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        UNCHANGED = "unchanged", _("No changes")
        FAILED = "failed", _("Not applied")

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    summary = models.JSONField(_("changes"), default=dict)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("organisation import")
        verbose_name_plural = _("organisation imports")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.created_at:%Y-%m-%d %H:%M}"


# Logins as django-axes records them, under Danish names in the admin (axes' own models
# name themselves in English, e.g. "Attempted Access: <time>").


class LoginAttempt(AccessAttempt):
    """Failed logins per user and address since the last success: what locks someone out."""

    class Meta:
        proxy = True
        verbose_name = _("failed login series")
        verbose_name_plural = _("failed logins (lockout)")

    def __str__(self) -> str:
        return _("%(username)s from %(ip)s, %(failures)s failed") % {
            "username": self.username or "–",
            "ip": self.ip_address or "–",
            "failures": self.failures_since_start,
        }


class LoginFailure(AccessFailureLog):
    class Meta:
        proxy = True
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return _("%(username)s from %(ip)s at %(time)s") % {
            "username": self.username or "–",
            "ip": self.ip_address or "–",
            "time": formats.localize(timezone.localtime(self.attempt_time)),
        }


class LoginRecord(AccessLog):
    class Meta:
        proxy = True
        verbose_name = _("login")
        verbose_name_plural = _("logins")

    def __str__(self) -> str:
        return _("%(username)s from %(ip)s at %(time)s") % {
            "username": self.username or "–",
            "ip": self.ip_address or "–",
            "time": formats.localize(timezone.localtime(self.attempt_time)),
        }
