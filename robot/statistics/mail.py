"""The monthly report by e-mail: the statistics PDF for the month before, to the
configured recipients, with every unit's figures (as payroll sees them).

The PDF is rendered when the report is queued and goes into the outbox with the e-mail
(orders/notifications.py), so a mail server that is down delays the report, and the retry
sends the same file."""

import datetime

from django.conf import settings
from django.utils import timezone

from orders.notifications import queue_email

from .period import add_months


class _Everyone:
    """Stands in for a user who sees every unit; the report holds no personal data."""

    is_authenticated = True
    is_payroll = False
    is_staff = True


def send_monthly_report(*, month: str | None = None) -> int:
    """Queue the report for `month` (YYYY-MM; default: the month before), once per month.
    Returns the number of recipients, or 0 if the month's report was queued before."""
    from .views import monthly_report_pdf

    recipients = settings.STATS_REPORT_RECIPIENTS
    if not recipients:
        return 0
    first = (
        datetime.datetime.strptime(month, "%Y-%m").date()
        if month
        else add_months(timezone.localdate().replace(day=1), -1)
    )
    notification = queue_email(
        template="monthly_report",
        key=f"{first:%Y-%m}",
        to=recipients,
        context={"month": f"{first:%m/%Y}"},
        attachments=[
            (
                f"maanedsrapport-{first:%Y-%m}.pdf",
                monthly_report_pdf(user=_Everyone(), month=first),
            )
        ],
    )
    return len(recipients) if notification else 0
