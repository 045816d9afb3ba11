"""The administrator's "Test the connection" to the configured case system (ESDH)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.decorators import staff_required

from .esdh import FilingError, case_system
from .filing import take_rate_slot


def check_esdh_connection() -> tuple[bool, str]:
    """Sign in to the case system and look up the test person's case; nothing is filed."""
    if not settings.ESDH_TEST_CPR:
        return False, _(
            "ESDH_TEST_CPR is not set: give the CPR number of a test person who has one "
            "personnel case in the case system."
        )
    try:
        # The test takes its turn in the shared rate limit like any filing.
        adapter = case_system(throttle=take_rate_slot)
        return True, adapter.check_connection(settings.ESDH_TEST_CPR)
    except FilingError as error:
        return False, str(error)


@staff_required
@require_http_methods(["GET", "POST"])
def esdh_connection(request: HttpRequest) -> HttpResponse:
    result = check_esdh_connection() if request.method == "POST" else None
    return render(
        request,
        "robot/esdh_connection.html",
        {"backend": settings.ESDH_BACKEND, "result": result},
    )
