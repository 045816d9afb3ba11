"""Letters for the new hire, the paper consent form and the order receipt (PDF)."""

from django.conf import settings
from django.utils import timezone

from portal.pdf import render_pdf

from .models import Order

LETTERS = {
    "letter": "letters/hire_letter.html",
    "consent": "letters/consent_form.html",
    "receipt": "letters/order_receipt.html",
}


def letter_context(**context) -> dict:
    return {
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAME,
        "MUNICIPALITY_LOGO": settings.MUNICIPALITY_LOGO,
        "PAYROLL_CONTACT": settings.PAYROLL_CONTACT,
        "CONSENT_DAYS": settings.CONSENT_DAYS,
        "today": timezone.localdate(),
        **context,
    }


def render_letter(*, which: str, order: Order) -> bytes:
    lines = [line for line in order.lines.all() if line.status != line.Status.CANCELLED]
    return render_pdf(LETTERS[which], letter_context(order=order, lines=lines))
