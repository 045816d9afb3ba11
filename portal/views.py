from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from orders.models import OrderLine

from orders.selectors import units_of

from .celery import app as celery_app
from .pdf import render_pdf
from .welcome import dismiss_welcome_banner, welcome_areas, welcome_sections


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if units_of(request.user).exists():
        return redirect("orders:list")
    return render(request, "portal/home.html")


def _welcome_context(request: HttpRequest) -> dict:
    areas = list(welcome_areas(request.user))
    area = next((a for a in areas if str(a.pk) == request.GET.get("omraade")), None)
    if area is None and areas and not (request.user.is_payroll or request.user.is_staff):
        area = areas[0]
    statuses = [(value, label, OrderLine.STATUS_HELP[value])
                for value, label in OrderLine.Status.choices]
    return {"areas": areas, "area": area, "sections": welcome_sections(area),
            "statuses": statuses}


@login_required
@require_GET
def welcome(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/welcome.html", _welcome_context(request))


@login_required
@require_GET
def welcome_pdf(request: HttpRequest) -> HttpResponse:
    from orders.letters import letter_context

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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer and operators: can we reach the database and the broker?"""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        return "unavailable"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "unavailable"
