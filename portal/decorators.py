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


def staff_required(view: Callable) -> Callable:
    """Administrators only (the portal's own pages, not the Django admin): 404 otherwise."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def payroll_or_staff_required(view: Callable) -> Callable:
    """Payroll and administrators: figures about the robot, not personal data."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not (request.user.is_payroll or request.user.is_staff):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
