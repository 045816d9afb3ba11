import csv
import json

import auditlog.admin  # registers LogEntry's admin first, replaced below
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from .models import Area, GroupMapping, Membership, RoleGrant, Unit, UnitType, User
from .roles import RoleGrantError, decide_role, propose_role


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


@admin.register(UnitType)
class UnitTypeAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "unit_type", "is_active"]
    list_filter = ["area", "unit_type", "is_active"]
    search_fields = ["name", "area__name"]
    inlines = [MembershipInline]


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    list_display = ["group_id", "label", "grants", "unit", "membership_role"]
    list_filter = ["grants", "unit__area"]
    search_fields = ["group_id", "label", "unit__name"]
    autocomplete_fields = ["unit"]


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "role",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["state", "role"]
    actions = ["approve", "reject"]

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
