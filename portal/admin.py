import csv
import json

import auditlog.admin  # registers LogEntry's admin first, replaced below
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from .models import Area, GroupMapping, Membership, OrgImport, RoleGrant, Unit, User
from .roles import (
    RoleGrantError,
    decide_role,
    delete_group_mapping,
    propose_role,
    save_group_mapping,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["unit"]
    # Memberships from groups are reset at every login; hand-made ones are "manual".
    readonly_fields = ["source"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_payroll", "is_staff"]
    list_filter = ["is_payroll", "is_staff", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Attestportal"), {"fields": ["is_payroll", "sso_subject"]}),
    )
    inlines = [MembershipInline]
    # Giving payroll or administrator rights takes two administrators (actions below);
    # taking them away is immediate.
    readonly_fields = ["is_payroll", "is_staff", "is_superuser", "sso_subject"]
    actions = ["propose_payroll", "propose_administrator", "remove_roles"]

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
        for user in queryset.exclude(pk=request.user.pk):
            user.is_payroll = user.is_staff = user.is_superuser = False
            user.save(update_fields=["is_payroll", "is_staff", "is_superuser"])


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name"]
    inlines = [UnitInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "is_active"]
    list_filter = ["area", "is_active"]
    search_fields = ["name", "area__name"]
    inlines = [MembershipInline]


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
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
class RoleGrantAdmin(admin.ModelAdmin):
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
                decide_role(grant_id=grant.pk, by=request.user, approve=approve)
            except RoleGrantError as error:
                self.message_user(request, f"{grant}: {error}", messages.ERROR)

    @admin.action(description=_("Approve (not your own proposal)"))
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject"))
    def reject(self, request, queryset):
        self._decide(request, queryset, False)


@admin.register(OrgImport)
class OrgImportAdmin(admin.ModelAdmin):
    """Every import of the organisation, scheduled or uploaded; read only."""

    list_display = ["created_at", "source", "state", "created_by", "error"]
    list_filter = ["source", "state"]
    readonly_fields = ["created_at", "source", "state", "created_by", "error", "summary"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogAdmin(auditlog.admin.LogEntryAdmin):
    """Every administrative change, filterable and exportable; never editable."""

    list_filter = [
        *auditlog.admin.LogEntryAdmin.list_filter,
        ("actor", admin.RelatedOnlyFieldListFilter),
        "timestamp",
    ]
    actions = ["export_csv"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Export the chosen entries as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "timestamp",
                "actor",
                "action",
                "object_type",
                "object_id",
                "object",
                "changes",
                "remote_addr",
            ]
        )
        actions = dict(LogEntry.Action.choices)
        for entry in queryset.select_related("actor", "content_type").order_by("timestamp"):
            writer.writerow(
                [
                    entry.timestamp.isoformat(),
                    entry.actor.get_username() if entry.actor else "",
                    actions.get(entry.action, entry.action),
                    f"{entry.content_type.app_label}.{entry.content_type.model}",
                    entry.object_pk,
                    entry.object_repr,
                    json.dumps(entry.changes_dict, ensure_ascii=False),
                    entry.remote_addr or "",
                ]
            )
        return response
