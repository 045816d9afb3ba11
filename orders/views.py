from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from portal.listing import paginate
from portal.selectors import units_of

from . import hires, letters, services
from .forms import OrderCorrectionForm, OrderFilterForm, OrderForm
from .models import AccessLog, OrderEvent, OrderLine
from .selectors import orders_visible_to, start_soon_date, start_window, timeline_for

ORDERS_PER_PAGE = 25


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    filters = OrderFilterForm(request.GET, units=list(units_of(request.user)))
    orders = orders_visible_to(request.user).for_listing()
    if filters.is_valid():
        if status := filters.cleaned_data["status"]:
            orders = orders.filter(pk__in=OrderLine.objects.filter(status=status).values("order"))
        if q := filters.cleaned_data["q"]:
            orders = orders.filter(full_name__icontains=q)  # pg_trgm index on PostgreSQL
        if unit := filters.cleaned_data["unit"]:
            orders = orders.filter(unit_id=unit)
        orders = orders.order_by(*filters.ordering)
    else:
        orders = orders.none()  # e.g. a CPR number in the search field: show nothing of it
    page = paginate(orders, request, per_page=ORDERS_PER_PAGE)
    services.log_access(user=request.user, action=AccessLog.Action.LIST_ORDERS, orders=page)
    started_since, soon = start_window()
    context = {
        "page": page,
        "filters": filters,
        "soon": soon,
        "started_since": started_since,
        "today": timezone.localdate(),
        "query": filters.clean_query(),
        "filtered": filters.is_valid()
        and any(filters.cleaned_data[k] for k in ("q", "status", "unit")),
    }
    if not request.htmx:
        context["hire_prompts"] = hires.prompts_for(request.user)
        return render(request, "orders/order_list.html", context)
    response = render(request, "orders/order_list.html#results", context)
    if not filters.is_valid():
        # Keep the refused text out of the address bar and the browser history.
        return push_url(response, reverse("orders:list") + "?" + filters.clean_query())
    return response


@sensitive_post_parameters("cpr")
@login_required
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest) -> HttpResponse:
    if not units_of(request.user).exists():
        raise PermissionDenied(_("You are not attached to a unit that can order certificates."))
    if request.method == "GET" and request.htmx:
        # The certificate choices follow the unit, position and children question.
        form = OrderForm(request.GET, user=request.user).without_errors()
        return render(request, "orders/order_form.html#catalogue", {"form": form})
    form = OrderForm(request.POST or None, user=request.user)
    duplicate = None
    if "refresh" in request.POST:
        form.without_errors()
    elif request.method == "POST" and form.is_valid():
        order, duplicate = place_order_from_form(
            request, form, unit=form.cleaned_data["unit"], cpr=form.cleaned_data["cpr"]
        )
        if order is not None:
            return redirect("orders:detail", public_id=order.public_id)
    context = {"form": form, "duplicate": duplicate}
    return render(request, "orders/order_form.html", context)


@login_required
@require_GET
def order_detail(request: HttpRequest, public_id) -> HttpResponse:
    order = get_object_or_404(
        orders_visible_to(request.user)
        .select_related("unit__area", "profile", "person", "created_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("kind", "legal_basis", "replaced_by"),
            ),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor", "line__kind")),
        ),
        public_id=public_id,
    )
    services.log_access(user=request.user, action=AccessLog.Action.VIEW_ORDER, orders=[order])
    context = {
        "order": order,
        "soon": start_soon_date(),
        "timeline": timeline_for(order, request.user),
        "can_correct": services.may_correct_order(order=order, by=request.user),
    }
    return render(request, "orders/order_detail.html", context)


@sensitive_post_parameters("cpr")
@login_required
@require_http_methods(["GET", "POST"])
def order_correct(request: HttpRequest, public_id) -> HttpResponse:
    order = get_object_or_404(
        orders_visible_to(request.user).select_related("person", "unit").prefetch_related("lines"),
        public_id=public_id,
    )
    try:
        services.ensure_may_correct(order=order, by=request.user)
    except services.OrderError as error:
        messages.error(request, str(error))
        return redirect("orders:detail", public_id=order.public_id)
    form = OrderCorrectionForm(
        request.POST or None, order=order, allow_cpr=not order.in_payroll_hands
    )
    if request.method == "POST" and form.is_valid():
        try:
            correction = services.correct_order(by=request.user, order=order, **form.cleaned_data)
        except services.OrderError as error:
            form.add_error(None, str(error))
        else:
            _report_correction(request, correction)
            return redirect("orders:detail", public_id=order.public_id)
    # The form shows the hire's name, masked CPR number and start date.
    services.log_access(user=request.user, action=AccessLog.Action.VIEW_ORDER, orders=[order])
    return render(request, "orders/order_correct.html", {"order": order, "form": form})


def _report_correction(request: HttpRequest, correction: services.OrderCorrection) -> None:
    if not correction.changes:
        messages.info(request, _("Nothing was changed."))
    elif correction.tell_police:
        messages.warning(
            request,
            _(
                "The order has been corrected. The police already have the old details: "
                "tell the police about the correction."
            ),
        )
    else:
        messages.success(request, _("The order has been corrected. See the timeline."))


@login_required
@require_POST
def line_cancel(request: HttpRequest, public_id, line_id: int) -> HttpResponse:
    line = get_object_or_404(
        OrderLine.objects.filter(order__in=orders_visible_to(request.user)).select_related("order"),
        order__public_id=public_id,
        pk=line_id,
    )
    try:
        services.cancel_line(line=line, by=request.user)
    except services.OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("The %(kind)s has been cancelled.") % {"kind": line.kind.name.lower()}
        )
    return redirect("orders:detail", public_id=public_id)


@login_required
@require_POST
def line_reorder(request: HttpRequest, public_id, line_id: int) -> HttpResponse:
    line = get_object_or_404(
        OrderLine.objects.filter(order__in=orders_visible_to(request.user)).select_related("kind"),
        order__public_id=public_id,
        pk=line_id,
    )
    try:
        services.reorder_line(line=line, by=request.user)
    except services.OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("The %(kind)s has been ordered again.") % {"kind": line.kind.name.lower()}
        )
    return redirect("orders:detail", public_id=public_id)


@never_cache
@login_required
@require_GET
def order_letter(request: HttpRequest, public_id, which: str) -> HttpResponse:
    if which not in letters.LETTERS:
        raise Http404
    order = get_object_or_404(
        orders_visible_to(request.user)
        .select_related("unit", "profile", "person", "created_by")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("kind", "legal_basis"))
        ),
        public_id=public_id,
    )
    if which == "letter" and not order.hire_letter_applies:
        raise Http404  # no letter to someone who cannot be hired, nor for a cancelled order
    services.log_access(user=request.user, action=AccessLog.Action.DOWNLOAD_LETTER, orders=[order])
    response = HttpResponse(
        letters.render_letter(which=which, order=order), content_type="application/pdf"
    )
    filename = {"letter": "brev", "consent": "samtykkeerklaering", "receipt": "kvittering"}[which]
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


@sensitive_variables("cpr")
def place_order_from_form(request: HttpRequest, form, *, unit, cpr: str):
    """Place the order a valid order form describes: (the order, None) on success, or
    (None, the visible duplicate order or None) with the reason added to the form."""
    data = form.cleaned_data
    try:
        order = services.place_order(
            by=request.user,
            unit=unit,
            profile=data["profile"],
            full_name=data["full_name"],
            cpr=cpr,
            start_date=data["start_date"],
            legal_bases=data["legal_bases"],
            child_contact=form.child_contact_value,
            submission_token=data["submission_token"],
            digital_post_exempt=data["digital_post_exempt"],
        )
    except services.DuplicateOrder as error:
        form.add_error(None, str(error))
        return None, orders_visible_to(request.user).filter(pk=error.line.order_id).first()
    except services.ResubmittedForm as error:
        form.add_error(None, str(error))
        form.renew_submission_token()
        return None, None
    except services.OrderError as error:
        form.add_error(None, str(error))
        return None, None
    messages.success(
        request, _("The order for %(name)s has been placed.") % {"name": order.full_name}
    )
    return order, None
