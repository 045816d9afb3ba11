"""Payroll's pages: police batches and orders on paper consent. Payroll only; 404 for others."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.decorators import payroll_required
from portal.listing import Sort, ordering_for, paginate, sort_choices

from . import batching, services
from .models import AccessLog, DuplicateAttempt, OrderLine, PoliceBatch
from .selectors import ordered_batches, payroll_batches, start_soon_date

BATCH_SORTS = [
    Sort("newest", _("Newest first"), ("-ordered_at", "-id")),
    Sort("oldest", _("Oldest first"), ("ordered_at", "id")),
    Sort("reference", _("Reference"), ("reference",)),
]
BATCHES_PER_PAGE = 25


@payroll_required
@require_GET
def batches(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort") or BATCH_SORTS[0].value
    context = {
        "groups": batching.waiting_groups(),
        # A paper order being prepared is reached from its line in the paper section.
        "prepared": payroll_batches().filter(state=PoliceBatch.State.PREPARED, on_paper=False),
        # Ordered batches stay at hand for the CSV again, or to look up a reference.
        "ordered": paginate(
            ordered_batches().order_by(*ordering_for(BATCH_SORTS, sort)),
            request,
            per_page=BATCHES_PER_PAGE,
        ),
        "sort_choices": sort_choices(BATCH_SORTS),
        "sort": sort,
        "query": urlencode({"sort": sort}),
        "paper_lines": list(
            OrderLine.objects.awaiting_paper_consent()
            .select_related("batch")
            .order_by("order__created_at")
        ),
        "max_persons": PoliceBatch.MAX_PERSONS,
        "soon": start_soon_date(),
        "duplicates": list(DuplicateAttempt.objects.open()),
    }
    shown = [line.order for group in context["groups"] for line in group.lines]
    shown += [line.order for line in context["paper_lines"]]
    shown += [attempt.existing_line.order for attempt in context["duplicates"]]
    services.log_access(user=request.user, action=AccessLog.Action.LIST_ORDERS, orders=shown)
    return render(request, "orders/payroll_batches.html", context)


@payroll_required
@require_POST
def batches_prepare(request: HttpRequest) -> HttpResponse:
    created = batching.prepare_batches(by=request.user)
    if created:
        messages.success(
            request, _("%(count)d batches are ready to order.") % {"count": len(created)}
        )
    else:
        messages.info(request, _("No certificates are waiting for a batch."))
    return redirect("payroll:batches")


@never_cache
@payroll_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(payroll_batches(), pk=pk)
    lines = batching.batch_lines(batch)
    services.log_access(
        user=request.user, action=AccessLog.Action.VIEW_BATCH, orders=[line.order for line in lines]
    )
    context = {
        "batch": batch,
        "lines": lines,
        "paste_text": batching.police_paste_text(lines),
        "requester": batching.requester_text(batch),
        "can_undo": batch.state == PoliceBatch.State.ORDERED
        and timezone.localdate(batch.ordered_at) == timezone.localdate(),
    }
    return render(request, "orders/payroll_batch.html", context)


@payroll_required
@require_GET
def batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(payroll_batches(), pk=pk)
    lines = batching.batch_lines(batch)
    services.log_access(
        user=request.user,
        action=AccessLog.Action.DOWNLOAD_BATCH,
        orders=[line.order for line in lines],
    )
    # A byte-order mark so Excel reads the Danish letters as UTF-8.
    response = HttpResponse(
        "\ufeff" + batching.batch_csv(batch, lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{batch.reference}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _batch_action(
    request: HttpRequest, pk: int, action, success: str, then: str = "payroll:batch"
) -> HttpResponse:
    batch = get_object_or_404(payroll_batches(), pk=pk)
    try:
        action(batch=batch, by=request.user)
    except services.OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % {"reference": batch.reference})
    return redirect(then, pk=pk) if then == "payroll:batch" else redirect(then)


@payroll_required
@require_POST
def batch_mark_ordered(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_action(
        request, pk, batching.mark_batch_ordered, _("Batch %(reference)s is marked as ordered.")
    )


@payroll_required
@require_POST
def batch_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_action(
        request,
        pk,
        batching.undo_batch_ordered,
        _("Batch %(reference)s is no longer marked as ordered."),
    )


@payroll_required
@require_POST
def batch_release(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_action(
        request,
        pk,
        batching.release_batch,
        _("Batch %(reference)s is dissolved; its certificates wait again."),
        then="payroll:batches",
    )


@payroll_required
@require_POST
def paper_order(request: HttpRequest, line_id: int) -> HttpResponse:
    """Open the paper-order step: the line's batch of one, with its Rekvirent reference."""
    line = get_object_or_404(OrderLine, pk=line_id)
    try:
        batch = batching.prepare_paper_batch(line=line, by=request.user)
    except services.OrderError as error:
        messages.error(request, str(error))
        return redirect("payroll:batches")
    return redirect("payroll:batch", pk=batch.pk)


@payroll_required
@require_POST
def duplicate_handled(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(DuplicateAttempt, pk=pk)
    services.mark_duplicate_handled(attempt=attempt, by=request.user)
    messages.success(
        request,
        _("The refused order for %(name)s is marked as handled.") % {"name": attempt.full_name},
    )
    return redirect("payroll:batches")
