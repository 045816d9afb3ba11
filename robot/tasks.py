from dataclasses import asdict

from celery import shared_task

from . import pipeline, retention, sweeping


@shared_task(acks_late=True)
def process_document(document_id: int) -> None:
    """Read, judge and match one received document."""
    pipeline.process_document(document_id=document_id)


@shared_task(acks_late=True)
def sweep_intake() -> dict:
    """Take in files from the drop folder and the mailbox, and pick up anything unread."""
    return sweeping.sweep()


@shared_task(acks_late=True)
def file_due() -> int:
    """File due filing jobs in the case system; the database says which."""
    from . import filing

    filing.release_stale_claims()
    return filing.file_due()


@shared_task(acks_late=True)
def apply_retention() -> dict:
    """Delete and anonymise what the retention periods say the portal no longer needs."""
    return asdict(retention.apply_retention())


@shared_task(acks_late=True)
def send_monthly_report(month: str | None = None) -> int:
    """E-mail last month's statistics (PDF) to STATS_REPORT_RECIPIENTS."""
    from .statistics.mail import send_monthly_report as send

    return send(month=month)


@shared_task(acks_late=True, time_limit=3600)
def refresh_statistics() -> int:
    """Bring the statistics' summary up to date (every stale order line)."""
    from .statistics import summary

    return summary.refresh()
