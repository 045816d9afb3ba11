"""Data subjects' requests: who looked at one person's data, as a PDF (docs/architecture.md, D4).

The CPR number comes in a POST form, never in a URL, so it stays out of the address bar,
the browser history and the server's request log.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from portal.cpr import InvalidCpr, hash_cpr, normalise_cpr
from portal.models import User
from portal.pdf import letter_context, render_pdf

from .models import AccessLog, Person
from .services import log_person_access


class AccessLogExportForm(forms.Form):
    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=11,
        help_text=_("10 digits, e.g. 010190-1234."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.person: Person | None = None

    @sensitive_variables("digits")
    def clean_cpr(self) -> str:
        try:
            digits = normalise_cpr(self.cleaned_data["cpr"])
        except InvalidCpr as error:
            raise forms.ValidationError(str(error), code="invalid_cpr") from None
        self.person = Person.objects.filter(cpr_hash=hash_cpr(digits)).first()
        if self.person is None:
            raise forms.ValidationError(
                _(
                    "The portal holds no data about this CPR number, so nobody has looked it "
                    "up here. Anonymised persons cannot be found either."
                ),
                code="unknown_person",
            )
        return digits


def can_export_access_log(user: User) -> bool:
    return user.is_payroll or user.is_staff


def export_access_log(*, person: Person, by: User) -> bytes:
    """The person's access log as a PDF, newest first; the export is logged itself."""
    entries = list(
        AccessLog.objects.filter(person=person).select_related("order__unit").order_by("-at", "-pk")
    )
    latest_order = person.orders.order_by("-created_at", "-pk").first()
    pdf = render_pdf(
        "letters/access_log.html",
        letter_context(
            person=person,
            name=latest_order.full_name if latest_order else "",
            entries=entries,
            months=settings.RETENTION_ACCESS_LOG_MONTHS,
        ),
    )
    # The model has no action for this export and adding one is out of scope: the
    # closest is "Downloaded a letter", since the export is a PDF in the letter layout
    # about this person. It names no order, as it covers all of them.
    log_person_access(user=by, action=AccessLog.Action.DOWNLOAD_LETTER, entries=[(person.pk, None)])
    return pdf


@sensitive_post_parameters("cpr")
@login_required
@require_http_methods(["GET", "POST"])
def access_log_export(request: HttpRequest) -> HttpResponse:
    if not can_export_access_log(request.user):
        raise Http404
    form = AccessLogExportForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        pdf = export_access_log(person=form.person, by=request.user)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="adgangslog.pdf"'
        response["Cache-Control"] = "no-store, private"
        return response
    return render(request, "portal/access_export.html", {"form": form})
