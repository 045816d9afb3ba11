from urllib.parse import urlencode

import auditlog.admin  # registers LogEntry's admin first, replaced below
import axes.admin
from auditlog.filters import CIDFilter
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.admin.utils import NestedObjects, quote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import router
from django.db.models import F, TextField
from django.forms import Textarea, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_labels import LabelledTabularInline
from .audit import audit_changes, write_audit_csv
from .middleware import recently_authenticated
from .models import (
    Area,
    GroupMapping,
    LoginAttempt,
    LoginFailure,
    LoginRecord,
    Membership,
    OrgImport,
    RoleGrant,
    Unit,
    UnitType,
    User,
    WelcomeSection,
)
from .roles import (
    RoleGrantError,
    decide_role,
    delete_group_mapping,
    propose_role,
    save_group_mapping,
)

# Django stores permission names in English ("Can add unit") as rows in the database, where
# no catalogue reaches them; the permission lists name them in Danish from their codename.
PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    model = permission.content_type.model_class()
    action = permission.codename.split("_", 1)[0]
    if model is None or action not in PERMISSION_ACTIONS:
        return str(permission)
    app = model._meta.app_config.verbose_name
    # Django's own admin log and django-auditlog's share the msgid "log entry".
    name = _("admin history entry") if model is AdminLogEntry else model._meta.verbose_name
    return f"{capfirst(app)} | " + PERMISSION_ACTIONS[action] % {"model": name}


def danish_permissions(formfield):
    if formfield is not None:
        formfield.label_from_instance = permission_label
    return formfield


# Objects whose name is personal data (a new hire's name, an e-mail's subject) are listed
# by number on the admin's delete confirmations, as are those of models without an admin
# page (orders, persons, certificates, the access log): "Bestilling: Ane Hansen (010190-
# xxxx)" would show an administrator who is being hired, which is payroll's business.
NAMED_BY_NUMBER_ONLY = {"orders.notification", "orders.unreadhire"}


def shows_name_in_admin(model, admin_site) -> bool:
    return admin_site.is_registered(model) and model._meta.label_lower not in NAMED_BY_NUMBER_ONLY


def deleted_objects_without_personal_data(objs, request, admin_site):
    """Django's get_deleted_objects (django.contrib.admin.utils), naming each object the
    admin does not show by its kind and number only."""
    if not objs:
        return [], {}, set(), []
    collector = NestedObjects(using=router.db_for_write(objs[0]._meta.model), origin=objs)
    collector.collect(objs)
    perms_needed = set()

    def describe(obj):
        model, opts = obj.__class__, obj._meta
        if admin_site.is_registered(model):
            if not admin_site.get_model_admin(model).has_delete_permission(request, obj):
                perms_needed.add(opts.verbose_name)
        if not shows_name_in_admin(model, admin_site):
            return f"{capfirst(opts.verbose_name)}: {obj.pk}"
        try:
            url = reverse(
                f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]
            )
        except NoReverseMatch:
            return f"{capfirst(opts.verbose_name)}: {obj}"
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

    to_delete = collector.nested(describe)
    protected = [describe(obj) for obj in collector.protected]
    model_count = {
        model._meta.verbose_name_plural: len(objects)
        for model, objects in collector.model_objs.items()
    }
    return to_delete, model_count, perms_needed, protected


class DeletionWithoutPersonalData:
    """For every ModelAdmin of the portal's apps (tests/portal/test_admin_privacy.py)."""

    def get_deleted_objects(self, objs, request):
        return deleted_objects_without_personal_data(objs, request, self.admin_site)


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["unit"]
    # Memberships from groups are reset at every login; hand-made ones are "manual".
    readonly_fields = ["source"]


def holds_a_role(user: User) -> bool:
    return user.is_payroll or user.is_staff or user.is_superuser


def may_take_over(editor: User, user: User) -> bool:
    """Whether the editor may set the user's password or e-mail address. Never another
    administrator's or payroll user's: whoever sets them can log in as that person, and
    two administrators (the rule for giving roles) would then be one."""
    return editor.pk == user.pk or not holds_a_role(user)


def is_break_glass_account(user: User) -> bool:
    return user.get_username() in settings.SSO_BREAK_GLASS_USERS


def sso_editor_of_break_glass(editor: User, user: User) -> bool:
    """The break-glass accounts are the way in when single sign-on fails or is taken
    over: someone signed in through it never changes them."""
    return bool(editor.sso_subject) and is_break_glass_account(user)


TAKE_OVER_REFUSED = _(
    "You cannot change another administrator's or payroll user's password or e-mail "
    "address: whoever knows them could act as that person. They change their password "
    "themselves under “Change password”."
)


class PortalUserChangeForm(UserChangeForm):
    editor: User | None = None

    def clean_email(self):
        email = self.cleaned_data.get("email", "")
        if (
            "email" in self.changed_data
            and self.editor is not None
            and not may_take_over(self.editor, self.instance)
        ):
            raise ValidationError(TAKE_OVER_REFUSED, code="take_over")
        return email


@admin.register(User)
class UserAdmin(DeletionWithoutPersonalData, BaseUserAdmin):
    form = PortalUserChangeForm
    list_display = ["username", "first_name", "last_name", "email", "is_payroll", "is_staff"]
    list_filter = ["is_payroll", "is_staff", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Attestportal"), {"fields": ["is_payroll", "sso_subject"]}),
    )
    inlines = [MembershipInline]
    # Plain multiple selects: Django's two-box filter widget gives its search icons a name
    # that no role allows (axe: aria-prohibited-attr).
    filter_horizontal = ()
    # Giving payroll or administrator rights takes two administrators (actions below);
    # taking them away is immediate.
    readonly_fields = ["is_payroll", "is_staff", "is_superuser", "sso_subject"]
    actions = ["propose_payroll", "propose_administrator", "remove_roles"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return danish_permissions(super().formfield_for_manytomany(db_field, request, **kwargs))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if issubclass(form, PortalUserChangeForm):
            form = type(form.__name__, (form,), {"editor": request.user})
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and sso_editor_of_break_glass(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and sso_editor_of_break_glass(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, id)
        if user is not None and user.pk == request.user.pk:
            # One's own password through the normal form, which asks for the old one.
            return HttpResponseRedirect(reverse("admin:password_change"))
        if user is not None and sso_editor_of_break_glass(request.user, user):
            self.message_user(
                request,
                _(
                    "You are logged in with the municipality's login and cannot change a "
                    "break-glass account."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:portal_user_changelist"))
        if user is not None and not may_take_over(request.user, user):
            self.message_user(request, TAKE_OVER_REFUSED, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:portal_user_change", args=[user.pk]))
        return super().user_change_password(request, id, form_url)

    def _propose(self, request, queryset, role):
        for user in queryset:
            try:
                propose_role(user=user, role=role, by=request.user)
            except RoleGrantError as error:
                self.message_user(request, f"{user}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Proposed for %(user)s; another administrator must approve it.")
                    % {"user": user},
                )

    @admin.action(description=_("Propose the payroll role (needs a second administrator)"))
    def propose_payroll(self, request, queryset):
        self._propose(request, queryset, RoleGrant.Role.PAYROLL)

    @admin.action(description=_("Propose the administrator role (needs a second administrator)"))
    def propose_administrator(self, request, queryset):
        self._propose(request, queryset, RoleGrant.Role.ADMINISTRATOR)

    @admin.action(description=_("Remove the payroll and administrator roles"))
    def remove_roles(self, request, queryset):
        removed = 0
        for user in queryset.exclude(pk=request.user.pk):
            if sso_editor_of_break_glass(request.user, user):
                continue
            user.is_payroll = user.is_staff = user.is_superuser = False
            user.save(update_fields=["is_payroll", "is_staff", "is_superuser"])
            removed += 1
        self.message_user(
            request,
            ngettext(
                "Roles removed from %(count)d user.",
                "Roles removed from %(count)d users.",
                removed,
            )
            % {"count": removed},
        )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DeletionWithoutPersonalData, BaseGroupAdmin):
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return danish_permissions(super().formfield_for_manytomany(db_field, request, **kwargs))


class UnitInline(LabelledTabularInline):
    model = Unit
    extra = 0


@admin.register(Area)
class AreaAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["name"]
    inlines = [UnitInline]


@admin.register(UnitType)
class UnitTypeAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Unit)
class UnitAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["name", "area", "unit_type", "is_active"]
    list_filter = ["area", "unit_type", "is_active"]
    search_fields = ["name", "area__name"]
    inlines = [MembershipInline]


class WelcomeAreaFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_value_display = _("General sections")


@admin.register(WelcomeSection)
class WelcomeSectionAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    """The welcome pack's texts: general sections, and an area's own replacing one topic."""

    list_display = ["title", "topic", "area_or_everyone", "sort_order"]
    list_filter = ["topic", ("area", WelcomeAreaFilter)]
    search_fields = ["title", "body"]
    list_select_related = ["area"]
    # General sections first, then each area's own.
    ordering = [F("area__name").asc(nulls_first=True), "sort_order", "pk"]
    fields = ["area", "topic", "title", "body", "sort_order"]
    empty_value_display = _("Everyone")
    formfield_overrides = {TextField: {"widget": Textarea(attrs={"rows": 20, "cols": 90})}}

    @admin.display(description=_("shown to"), ordering="area__name")
    def area_or_everyone(self, section: WelcomeSection) -> str:
        return section.area.name if section.area else _("Everyone")


@admin.register(GroupMapping)
class GroupMappingAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    """Unit memberships take effect at once; a mapping to the payroll or administrator
    role is a proposal until another administrator approves it under Role grants."""

    list_display = ["group_id", "label", "grants", "unit", "membership_role", "effect"]
    list_filter = ["grants", "approved", "unit__area"]
    search_fields = ["group_id", "label", "unit__name"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["effect"]

    @admin.display(description=_("in effect at login"))
    def effect(self, obj):
        if obj.pk is None:
            return ""
        if obj.in_effect:
            return _("Yes")
        return _("No: awaits approval by another administrator under Role grants")

    def save_model(self, request, obj, form, change):
        try:
            grant = save_group_mapping(mapping=obj, by=request.user, changed=set(form.changed_data))
        except RoleGrantError as error:
            raise PermissionDenied(str(error)) from None
        if grant is not None:
            self.message_user(
                request,
                _(
                    "The mapping gives the role “%(role)s”: it has no effect at login until "
                    "another administrator approves it under Role grants."
                )
                % {"role": grant.get_role_display()},
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        delete_group_mapping(mapping=obj)

    def delete_queryset(self, request, queryset):
        for mapping in queryset:
            delete_group_mapping(mapping=mapping)


@admin.register(RoleGrant)
class RoleGrantAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = [
        "grantee",
        "role",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["state", "role", ("group_mapping", admin.EmptyFieldListFilter)]
    actions = ["approve", "reject"]

    @admin.display(description=_("to"))
    def grantee(self, obj):
        return obj.grantee

    def has_add_permission(self, request):
        return False  # proposed from the user list

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, approve):
        for grant in queryset:
            try:
                grant = decide_role(grant_id=grant.pk, by=request.user, approve=approve)
            except RoleGrantError as error:
                self.message_user(request, f"{grant}: {error}", messages.ERROR)
                continue
            names = {"grantee": grant.grantee, "role": grant.get_role_display().lower()}
            if not approve:
                message = _("Rejected: %(grantee)s does not get the role %(role)s.") % names
            elif grant.user_id:
                message = _("Approved: %(grantee)s now has the role %(role)s.") % names
            else:
                message = _(
                    "Approved: the members of the group %(group)s get the role %(role)s at "
                    "their next login."
                ) % {**names, "group": grant.target}
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Approve (not your own proposal)"))
    def approve(self, request, queryset):
        # A session left open or taken over must not be enough to grant a role.
        if not recently_authenticated(request):
            self.message_user(
                request,
                _(
                    "Approving a role needs you to log in again first. Then choose the "
                    "proposal and approve it again."
                ),
                messages.WARNING,
            )
            back = reverse("admin:portal_rolegrant_changelist")
            return HttpResponseRedirect(f"{reverse('reauthenticate')}?{urlencode({'next': back})}")
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject"))
    def reject(self, request, queryset):
        self._decide(request, queryset, False)


@admin.register(OrgImport)
class OrgImportAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    """Every import of the organisation, scheduled or uploaded; read only."""

    list_display = ["created_at", "source", "state", "created_by", "error"]
    list_filter = ["source", "state"]
    readonly_fields = ["created_at", "source", "state", "created_by", "error", "summary"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(LogEntry)


class ObjectTypeFilter(admin.SimpleListFilter):
    """auditlog's own filter lists raw model names ("childcontactrule")."""

    title = _("type of object")
    parameter_name = "resource_type"

    def lookups(self, request, model_admin):
        types = ContentType.objects.filter(
            pk__in=LogEntry.objects.values("content_type").distinct()
        )
        named = [
            (content_type.pk, capfirst(content_type.model_class()._meta.verbose_name_plural))
            for content_type in types
            if content_type.model_class() is not None
        ]
        return sorted(named, key=lambda item: str(item[1]))

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(content_type_id=self.value())


@admin.register(LogEntry)
class AuditLogAdmin(auditlog.admin.LogEntryAdmin):
    """Every administrative change, filterable and exportable; never editable.

    auditlog's own texts are in Danish through our catalogue (portal/third_party_texts.py).
    Where auditlog writes English that no catalogue can reach (its change summary, raw
    values such as "None" and "True", an untranslated column title), the admin shows
    columns of its own instead, named here rather than overriding auditlog's methods."""

    list_display = [
        "created",
        "resource_url",
        "action",
        "changed_fields",
        "user_url",
        "correlation",
    ]
    list_filter = [
        "action",
        ObjectTypeFilter,
        CIDFilter,
        ("actor", admin.RelatedOnlyFieldListFilter),
        "timestamp",
    ]
    readonly_fields = ["created", "resource_url", "action", "user_url", "changes_table"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "resource_url", "cid"]}),
        (_("Changes"), {"fields": ["action", "changes_table"]}),
    ]
    actions = ["export_csv"]

    @admin.display(description=_("Changes"))
    def changed_fields(self, obj):
        if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        names = [str(label) for label, _values in audit_changes(obj)]
        fields = ", ".join(names)
        if len(fields) > 75:
            fields = fields[: fields.rfind(" ", 0, 75)] + " …"
        return ngettext(
            "%(count)d change: %(fields)s", "%(count)d changes: %(fields)s", len(names)
        ) % {"count": len(names), "fields": fields}

    @admin.display(description=_("Changes"))
    def changes_table(self, obj):
        rows = [
            format_html("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", label, before, after)
            for label, (before, after) in audit_changes(obj)
        ]
        if not rows:
            return _("No field changes")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Field"),
            _("From"),
            _("To"),
            mark_safe("".join(rows)),  # each row escaped by format_html above
        )

    @admin.display(description=_("Correlation ID"))
    def correlation(self, obj):
        """Every change made by the same request or task, through auditlog's own filter."""
        if not obj.cid:
            return ""
        return format_html(
            '<a href="?{}" title="{}">{}</a>',
            urlencode({CIDFilter.parameter_name: obj.cid}),
            _("Click to filter by records with this correlation id"),
            obj.cid,
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Export the chosen entries as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        write_audit_csv(response, queryset)
        return response


# django-axes' lockout records under Danish names (portal.models.Login*): the same tables,
# shown with our proxies, whose names say what each list is for and whose objects name
# themselves in Danish (axes' own read "Attempted Access: <time>"). axes' field names,
# titles and status texts are in Danish through our catalogue (portal/third_party_texts.py).
for axes_model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(axes_model):
        admin.site.unregister(axes_model)


if getattr(settings, "AXES_ENABLE_ADMIN", True):

    @admin.register(LoginAttempt)
    class LoginAttemptAdmin(DeletionWithoutPersonalData, axes.admin.AccessAttemptAdmin):
        # axes' own clean-up action answers in English that no catalogue can translate.
        actions = ["remove_expired_series"]

        @admin.action(description=_("Clean up expired attempts"))
        def remove_expired_series(self, request, queryset):
            # axes reads the time of a login attempt from the request, which an admin
            # request is not: without one it counts the cool-off from now.
            if getattr(request, "axes_attempt_time", None) is None:
                request.axes_attempt_time = None
            count = self.handler.clean_expired_user_attempts(request=request)
            self.message_user(
                request,
                ngettext(
                    "%(count)d expired series removed.",
                    "%(count)d expired series removed.",
                    count,
                )
                % {"count": count},
            )

    @admin.register(LoginRecord)
    class LoginRecordAdmin(DeletionWithoutPersonalData, axes.admin.AccessLogAdmin):
        pass

    @admin.register(LoginFailure)
    class LoginFailureAdmin(DeletionWithoutPersonalData, axes.admin.AccessFailureLogAdmin):
        pass
