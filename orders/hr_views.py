"""New hires from the HR system: the manager's pre-filled order and "not needed", and
payroll's import (dry run, apply) and compliance list."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.decorators import payroll_required

from . import hires, services
from .hr_forms import HireFileForm, HireOrderForm, NotNeededForm
from .models import AccessLog, Hire, HireColumns, HireImport
from .views import place_order_from_form


def _awaiting_hire(request: HttpRequest, public_id) -> Hire:
    return get_object_or_404(
        hires.hires_visible_to(request.user).select_related("unit__area", "profile", "person"),
        public_id=public_id,
        status=Hire.Status.AWAITING_ORDER,
    )


@login_required
@require_http_methods(["GET", "POST"])
def hire_order(request: HttpRequest, public_id) -> HttpResponse:
    hire = _awaiting_hire(request, public_id)
    form = HireOrderForm(request.POST or None, user=request.user, hire=hire)
    duplicate = None
    if "refresh" in request.POST:
        form.without_errors()
    elif request.method == "POST" and form.is_valid():
        order, duplicate = place_order_from_form(request, form, unit=hire.unit, cpr=hire.person.cpr)
        if order is not None:
            hires.link_order(hire=hire, order=order, by=request.user)
            return redirect("orders:detail", public_id=order.public_id)
    hires.log_hire_access(user=request.user, hires=[hire])
    return render(
        request,
        "orders/hire_order.html",
        {"form": form, "hire": hire, "duplicate": duplicate, "not_needed": NotNeededForm()},
    )


@login_required
@require_POST
def hire_not_needed(request: HttpRequest, public_id) -> HttpResponse:
    hire = get_object_or_404(hires.hires_visible_to(request.user), public_id=public_id)
    form = NotNeededForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason why no certificate is needed."))
        return redirect("orders:hire_order", public_id=public_id)
    try:
        hires.mark_not_needed(hire=hire, by=request.user, reason=form.cleaned_data["reason"])
    except hires.HireError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s has been marked as not needing a certificate.") % {"name": hire.full_name},
        )
    return redirect("orders:list")


@never_cache
@payroll_required
@require_http_methods(["GET", "POST"])
def hire_imports(request: HttpRequest) -> HttpResponse:
    form = HireFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            hire_import = hires.start_file_import(
                data=upload.read(), filename=upload.name, by=request.user
            )
        except hires.SourceError as error:
            form.add_error("file", str(error))
        else:
            return redirect("payroll:hire_import", public_id=hire_import.public_id)
    recent = HireImport.objects.select_related("created_by")[:20]
    columns = _hire_columns()
    return render(
        request,
        "orders/hire_imports.html",
        {
            "form": form,
            "imports": recent,
            "columns": hires.expected_columns(columns),
            "administrators": hires.job_code_administrators(),
            "failed_poll": hires.failed_polls(),
            "unread": list(hires.unread_hires()[:200]),
        },
    )


def _hire_columns() -> HireColumns:
    return HireColumns.objects.first() or HireColumns()


@payroll_required
@require_GET
def hire_import_example(request: HttpRequest) -> HttpResponse:
    """The example file with the mapped column names and one made-up hire. With a BOM, as
    Excel otherwise reads the æ in the names wrong."""
    response = HttpResponse(
        "\ufeff" + hires.example_file(_hire_columns()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="nyansatte-eksempel.csv"'
    return response


@never_cache
@payroll_required
@require_GET
def hire_import_detail(request: HttpRequest, public_id) -> HttpResponse:
    hire_import = get_object_or_404(HireImport, public_id=public_id)
    summary = hires.shown_summary(hire_import.summary)
    return render(
        request,
        "orders/hire_import.html",
        {
            "hire_import": hire_import,
            "summary": summary,
            "administrators": hires.job_code_administrators() if summary.get("unmapped") else "",
        },
    )


@payroll_required
@require_POST
def hire_import_apply(request: HttpRequest, public_id) -> HttpResponse:
    hire_import = get_object_or_404(HireImport, public_id=public_id)
    if "discard" in request.POST:
        hires.discard_hire_import(hire_import=hire_import)
        messages.success(request, _("The import has been discarded."))
        return redirect("payroll:hire_imports")
    try:
        hires.apply_hire_import(hire_import=hire_import, by=request.user)
    except hires.HireError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The new hires have been imported."))
    return redirect("payroll:hire_import", public_id=public_id)


@never_cache
@payroll_required
@require_GET
def hire_compliance(request: HttpRequest) -> HttpResponse:
    # Hires without a position are a group of their own, whatever their start date.
    rows = [r for r in hires.compliance_list() if r.hire.status != Hire.Status.UNMAPPED]
    unmapped = list(hires.hires_without_position()[:500])
    by_hand = list(hires.orders_without_hire_missing_certificates()[:200])
    hires.log_hire_access(user=request.user, hires=[row.hire for row in rows] + unmapped)
    services.log_access(user=request.user, action=AccessLog.Action.LIST_ORDERS, orders=by_hand)
    return render(
        request,
        "orders/hire_compliance.html",
        {
            "rows": rows,
            "unmapped": unmapped,
            "by_hand": by_hand,
            "days": settings.HIRE_COMPLIANCE_DAYS,
            "administrators": hires.job_code_administrators() if unmapped else "",
            "closed_unit_lines": list(hires.open_lines_in_closed_units()[:200]),
            "renewals": list(hires.renewals_overdue()[:200]),
            "failed_poll": hires.failed_polls(),
            "unread": list(hires.unread_hires()[:200]),
        },
    )
