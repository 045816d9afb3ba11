from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest


def payroll_required(view: Callable) -> Callable:
    """Payroll's pages hold full CPR numbers and certificates: 404 for everyone else."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_payroll:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
