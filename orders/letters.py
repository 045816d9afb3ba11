"""Letters for the new hire, the paper consent form and the order receipt (PDF)."""

from portal.pdf import letter_context, render_pdf

from .models import Order

LETTERS = {
    "letter": "letters/hire_letter.html",
    "consent": "letters/consent_form.html",
    "receipt": "letters/order_receipt.html",
}


def render_letter(*, which: str, order: Order) -> bytes:
    lines = [line for line in order.lines.all() if line.status != line.Status.CANCELLED]
    return render_pdf(
        LETTERS[which],
        letter_context(
            order=order,
            lines=lines,
            awaits_the_police=any(line.status == line.Status.NEW for line in lines),
        ),
    )
