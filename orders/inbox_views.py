"""The "Messages" page: every e-mail the portal sent the user."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.listing import paginate

from . import services
from .inbox import messages_for, notifications_for
from .models import AccessLog

MESSAGES_PER_PAGE = 25


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    page = paginate(notifications_for(request.user), request, per_page=MESSAGES_PER_PAGE)
    items = messages_for(request.user, page)
    # The subjects name new hires: a view of their data, as the order list is.
    orders = {item.order.pk: item.order for item in items if item.order is not None}
    services.log_access(
        user=request.user, action=AccessLog.Action.LIST_MESSAGES, orders=orders.values()
    )
    return render(request, "orders/inbox.html", {"page": page, "items": items})
