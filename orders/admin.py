from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.admin import AreaAdmin as OrganisationAreaAdmin
from portal.admin import DeletionWithoutPersonalData
from portal.admin_labels import LabelledTabularInline
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


class LegalBasisInline(LabelledTabularInline):
    model = LegalBasis
    extra = 0


@admin.register(CertificateKind)
class CertificateKindAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["name", "code", "sort_order"]
    inlines = [LegalBasisInline]


@admin.register(LegalBasis)
class LegalBasisAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
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


class ProfileRequirementInline(LabelledTabularInline):
    model = ProfileRequirement
    extra = 1
    autocomplete_fields = ["legal_basis"]


@admin.register(PositionProfile)
class PositionProfileAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["name", "area", "unit_type", "is_active"]
    list_filter = ["area", "unit_type", "is_active"]
    search_fields = ["name"]
    inlines = [ProfileRequirementInline]


HIDDEN_TEXT = _("Not shown: it is about a person (payroll sees it in the portal).")


class NotificationTemplateFilter(admin.SimpleListFilter):
    title = _("kind of e-mail")
    parameter_name = "template"

    def lookups(self, request, model_admin):
        used = Notification.objects.values_list("template", flat=True).distinct()
        labels = Notification.TEMPLATE_LABELS
        return sorted(
            ((template, labels.get(template, template)) for template in used),
            key=lambda item: str(item[1]),
        )

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(template=self.value())


@admin.register(Notification)
class NotificationAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    """E-mails sent or waiting: failures are visible here with their error."""

    list_display = [
        "created_at",
        "kind_of_email",
        "subject_shown",
        "to",
        "state",
        "attempts",
        "sent_at",
    ]
    list_filter = ["state", NotificationTemplateFilter]
    fields = [
        "kind_of_email",
        "to",
        "subject_shown",
        "text_shown",
        "state",
        "created_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "last_error",
        "key",
    ]
    readonly_fields = fields
    actions = ["retry"]

    # E-mails about orders, hires and certificates name the person and may carry payroll's
    # decision: administrators see that one exists, to whom and whether it went, never its
    # subject or text (nor the order it is about).
    @admin.display(description=_("subject"))
    def subject_shown(self, notification: Notification) -> str:
        return HIDDEN_TEXT if notification.is_about_a_person else notification.subject

    @admin.display(description=_("text"))
    def text_shown(self, notification: Notification) -> str:
        return HIDDEN_TEXT if notification.is_about_a_person else notification.body

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a record of what was sent; "Send again" is the only thing to do

    @admin.display(description=_("kind of e-mail"), ordering="template")
    def kind_of_email(self, notification: Notification) -> str:
        return notification.template_label

    @admin.action(description=_("Send again"))
    def retry(self, request, queryset):
        from .notifications import send_notification

        waiting = list(queryset.exclude(state=Notification.State.SENT))
        for notification in waiting:
            notification.attempts = 0
            notification.save(update_fields=["attempts"])
            send_notification(notification_id=notification.pk)
        self.message_user(
            request,
            ngettext(
                "%(count)d e-mail tried again; see its state in the list.",
                "%(count)d e-mails tried again; see their state in the list.",
                len(waiting),
            )
            % {"count": len(waiting)},
        )


# --- New hires from the HR system (orders/hires/) -----------------------------------

from . import hires  # noqa: E402
from .models import HireColumns, JobCode, UnreadHire  # noqa: E402


@admin.register(JobCode)
class JobCodeAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["code", "title", "area", "profile"]
    list_editable = ["profile"]
    list_filter = ["area"]
    search_fields = ["code", "title"]
    list_select_related = ["area", "profile"]

    def save_model(self, request, obj, form, change):
        """Hires waiting on this code are looked at again at once, not at the next
        hourly run: their managers are prompted today (in the list too, via
        list_editable). A changed code re-evaluates the hires of the old one as well."""
        super().save_model(request, obj, form, change)
        codes = {obj.code, form.initial.get("code")} - {None, ""}
        count = hires.reevaluate_open_hires(job_codes=codes)
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d new hire with job code %(code)s was looked at again.",
                    "%(count)d new hires with job code %(code)s were looked at again.",
                    count,
                )
                % {"count": count, "code": obj.code},
            )


@admin.register(HireColumns)
class HireColumnsAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["__str__", "full_name", "cpr", "unit", "start_date", "job_code"]

    def has_add_permission(self, request):
        return not HireColumns.objects.exists()


@admin.register(UnreadHire)
class UnreadHireAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    """Employments SD Løn sent that could not be used; each is tried again at every poll
    and disappears once it reads. Shown to administrators, who fix what is missing (a
    department, a job code) by the employment id; the hire's name is payroll's to see (its
    own pages log who saw it), and the CPR number stays encrypted."""

    list_display = ["employment_id", "unit", "start_date", "reason", "attempts"]
    fields = [*list_display, "first_seen_at", "last_seen_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
