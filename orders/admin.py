from django.contrib import admin

from portal.admin import AreaAdmin as OrganisationAreaAdmin
from portal.models import Area

from .models import (
    CertificateKind,
    ChildContactRule,
    LegalBasis,
    Notification,
    PositionProfile,
    ProfileRequirement,
)

# Orders, persons and the access log are deliberately not in the admin: administrators
# maintain the catalogue and the organisation and have no need to see criminal-record data.


class LegalBasisInline(admin.TabularInline):
    model = LegalBasis
    extra = 0


@admin.register(CertificateKind)
class CertificateKindAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "sort_order"]
    inlines = [LegalBasisInline]


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["text"]


class ChildContactRuleInline(admin.StackedInline):
    model = ChildContactRule
    extra = 0
    max_num = 1


# The organisation does not know the catalogue: ordering adds the children question to
# the area's admin page.
admin.site.unregister(Area)


@admin.register(Area)
class AreaAdmin(OrganisationAreaAdmin):
    inlines = [ChildContactRuleInline, *OrganisationAreaAdmin.inlines]


class ProfileRequirementInline(admin.TabularInline):
    model = ProfileRequirement
    extra = 1
    autocomplete_fields = ["legal_basis"]


@admin.register(PositionProfile)
class PositionProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "unit_type", "is_active"]
    list_filter = ["area", "unit_type", "is_active"]
    search_fields = ["name"]
    inlines = [ProfileRequirementInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """E-mails sent or waiting: failures are visible here with their error."""

    list_display = ["created_at", "template", "to", "state", "attempts", "sent_at"]
    list_filter = ["state", "template"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again")
    def retry(self, request, queryset):
        from .notifications import send_notification

        for notification in queryset.exclude(state=Notification.State.SENT):
            notification.attempts = 0
            notification.save(update_fields=["attempts"])
            send_notification(notification_id=notification.pk)


# --- New hires from the HR system (orders/hires.py) ---------------------------------

from .models import HireColumns, JobCode  # noqa: E402


@admin.register(JobCode)
class JobCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "area", "profile"]
    list_editable = ["profile"]
    list_filter = ["area"]
    search_fields = ["code", "title"]
    list_select_related = ["area", "profile"]


@admin.register(HireColumns)
class HireColumnsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "full_name", "cpr", "unit", "start_date", "job_code"]

    def has_add_permission(self, request):
        return not HireColumns.objects.exists()
