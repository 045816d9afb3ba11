from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .selectors import units_of
from .welcome import should_show_welcome_banner


def portal(request):
    user = getattr(request, "user", None)
    return {
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAME,
        "ACCESSIBILITY_STATEMENT_URL": settings.ACCESSIBILITY_STATEMENT_URL,
        "DEMO_MODE": settings.DEMO_MODE,
        "SSO_ENABLED": settings.SSO_ENABLED,
        "PAYROLL_CONTACT": settings.PAYROLL_CONTACT,
        # Lazy: costs a query only on pages that render the banner slot.
        "show_welcome_banner": SimpleLazyObject(
            lambda: bool(user and should_show_welcome_banner(user))
        ),
        # Offer "New order" only to whom may order (an administrator without a unit may not).
        "can_order": SimpleLazyObject(lambda: bool(user and units_of(user).exists())),
    }
