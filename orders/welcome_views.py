"""The welcome pack pages. They live with ordering because they explain an order's
statuses; the sections themselves are the organisation's (portal.welcome)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portal.pdf import letter_context, render_pdf
from portal.welcome import dismiss_welcome_banner, welcome_areas, welcome_sections

from .models import OrderLine


def _welcome_context(request: HttpRequest) -> dict:
    areas = list(welcome_areas(request.user))
    area = next((a for a in areas if str(a.pk) == request.GET.get("omraade")), None)
    if area is None and areas and not (request.user.is_payroll or request.user.is_staff):
        area = areas[0]
    statuses = [
        (value, label, OrderLine.STATUS_HELP[value]) for value, label in OrderLine.Status.choices
    ]
    return {"areas": areas, "area": area, "sections": welcome_sections(area), "statuses": statuses}


@login_required
@require_GET
def welcome(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/welcome.html", _welcome_context(request))


@login_required
@require_GET
def welcome_pdf(request: HttpRequest) -> HttpResponse:
    pdf = render_pdf("letters/welcome_pack.html", letter_context(**_welcome_context(request)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="velkomstpakke.pdf"'
    return response


@login_required
@require_POST
def welcome_dismiss(request: HttpRequest) -> HttpResponse:
    dismiss_welcome_banner(user=request.user)
    if request.htmx:
        return HttpResponse("")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("home")
    return redirect(next_url)
