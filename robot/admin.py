from collections import Counter

from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.models import CertificateKind
from portal.admin import DeletionWithoutPersonalData
from portal.admin_labels import LabelledTabularInline

from .evaluation import REFUSAL, UNKNOWN
from .models import Document, ModeSwitch, Phrase, RuleSet
from .rules import (
    RuleChange,
    activate_ruleset,
    active_ruleset,
    copy_ruleset,
    samples_dir,
    try_ruleset,
)
from .trial import current_mode

# Returned documents and assessments are not in the admin: they hold criminal-record data
# and are handled by payroll in the portal, with access logging.


def stored_documents_counted(changes: list[RuleChange], tried: int):
    """The try-out's changes as an administrator sees them: the samples one by one, real
    certificates only counted per change. A certificate's outcome is payroll's business,
    and its number and date of receipt would tie the outcome to a hire."""
    samples = {path.name for path in samples_dir().glob("*.pdf")}
    counted = Counter(
        (change.kind, change.before, change.after, change.reason)
        for change in changes
        if change.label not in samples
    )
    stored = [
        RuleChange(
            label=ngettext("%(count)d stored certificate", "%(count)d stored certificates", count)
            % {"count": count},
            kind=kind,
            before=before,
            after=after,
            reason=reason,
        )
        for (kind, before, after, reason), count in counted.items()
    ]
    return stored + [change for change in changes if change.label in samples], tried


class PhraseInline(LabelledTabularInline):
    model = Phrase
    extra = 1

    def has_change_permission(self, request, obj=None):
        # Rules in use are history: copy them to a draft to change anything.
        return obj is None or not (obj.is_active or obj.is_frozen)

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(RuleSet)
class RuleSetAdmin(DeletionWithoutPersonalData, admin.ModelAdmin):
    list_display = ["__str__", "is_active", "note", "created_at", "activated_at", "activated_by"]
    readonly_fields = ["version", "is_active", "created_at", "activated_at", "activated_by"]
    inlines = [PhraseInline]
    actions = ["copy_as_draft", "try_out", "activate"]

    @admin.action(description=_("Copy to a new draft version"))
    def copy_as_draft(self, request, queryset):
        for ruleset in queryset:
            draft = copy_ruleset(ruleset, note=_("Copy of version %(v)s") % {"v": ruleset.version})
            self.message_user(request, _("Draft %(draft)s created.") % {"draft": draft})

    def get_actions(self, request):
        # Deleting sits badly beside "use these rules": a draft is deleted from its own page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        # A version that has been used is history: evaluations and trial counts name it.
        if obj is not None and (obj.is_active or obj.activated_at or obj.is_frozen):
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/try/",
                self.admin_site.admin_view(self.tryout_view),
                name="robot_ruleset_try",
            ),
            *super().get_urls(),
        ]

    def tryout_view(self, request, pk: int):
        """The try-out as a page of its own, so the activation page can link to it."""
        if not self.has_view_permission(request):
            return self.admin_site.login(request)
        return self._tryout(request, get_object_or_404(RuleSet, pk=pk))

    @admin.action(description=_("Try on stored documents and the samples"))
    def try_out(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version."), messages.ERROR)
            return None
        return self._tryout(request, queryset.get())

    def _tryout(self, request, ruleset: RuleSet):
        changes, tried = stored_documents_counted(*try_ruleset(ruleset))
        outcomes = dict(Document.Outcome.choices)
        # The rules speak in kind codes; the administrator reads the kinds' names.
        kinds = {
            **dict(CertificateKind.objects.values_list("code", "name")),
            UNKNOWN: _("Not recognised"),
            REFUSAL: _("Refusal"),
        }
        return TemplateResponse(
            request,
            "admin/robot/ruleset_try.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Try %(rules)s") % {"rules": ruleset},
                "ruleset": ruleset,
                "tried": tried,
                "opts": self.model._meta,
                "may_activate": not ruleset.is_active and self.has_change_permission(request),
                "changes": [
                    (
                        change,
                        kinds.get(change.kind, change.kind),
                        outcomes.get(change.before, change.before or "–"),
                        outcomes.get(change.after, change.after),
                    )
                    for change in changes
                ],
            },
        )

    @admin.action(description=_("Use these rules from now on"))
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version."), messages.ERROR)
            return None
        ruleset = queryset.get()
        if ruleset.is_active:
            self.message_user(request, _("The robot already uses %(rules)s.") % {"rules": ruleset})
            return None
        if request.POST.get("post") != "yes":
            return self._confirm_activation(request, ruleset)
        activate_ruleset(ruleset, by=request.user)
        self.message_user(
            request,
            _(
                "The robot now uses %(rules)s for every new document. Every certificate kind "
                "is in trial mode, and the count of confirmed proposals has started over."
            )
            % {"rules": ruleset},
        )
        return None

    def _confirm_activation(self, request, ruleset: RuleSet):
        """What activating does, said before it is done: it cannot be undone, only
        followed by another version, and it puts every kind back in trial mode."""
        current = active_ruleset()
        automatic = [
            kind.name
            for kind in CertificateKind.objects.all()
            if current_mode(kind=kind, ruleset=current) == ModeSwitch.Mode.AUTOMATIC
        ]
        return TemplateResponse(
            request,
            "admin/robot/ruleset_activate.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Use rules version %(version)s from now on?")
                % {"version": ruleset.version},
                "ruleset": ruleset,
                "current": current,
                "automatic": automatic,
                "min_confirmed": settings.TRIAL_MIN_CONFIRMED,
                "tryout_url": reverse("admin:robot_ruleset_try", args=[ruleset.pk]),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def save_model(self, request, obj, form, change):
        if not change:
            last = RuleSet.objects.order_by("-version").first()
            obj.version = (last.version + 1) if last else 1
        super().save_model(request, obj, form, change)
