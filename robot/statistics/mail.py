"""The monthly report by e-mail: the statistics PDF for the month before, to the
configured recipients, with every unit's figures (as payroll sees them)."""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from .period import add_months


class _Everyone:
    """Stands in for a user who sees every unit; the report holds no personal data."""

    is_authenticated = True
    is_payroll = False
    is_staff = True


def send_monthly_report(*, month: str | None = None) -> int:
    """Render the report for `month` (YYYY-MM; default: the month before) and send it.
    Returns the number of recipients."""
    from .views import monthly_report_pdf

    recipients = settings.STATS_REPORT_RECIPIENTS
    if not recipients:
        return 0
    first = (
        datetime.datetime.strptime(month, "%Y-%m").date()
        if month
        else add_months(timezone.localdate().replace(day=1), -1)
    )
    pdf = monthly_report_pdf(user=_Everyone(), month=first)
    message = EmailMessage(
        subject=_("Attestportal: monthly report %(month)s") % {"month": f"{first:%m/%Y}"},
        body=_("The monthly report on certificates for %(month)s is attached.")
        % {"month": f"{first:%m/%Y}"},
        to=recipients,
    )
    message.attach(f"maanedsrapport-{first:%Y-%m}.pdf", pdf, "application/pdf")
    message.send()
    return len(recipients)
