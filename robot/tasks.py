from celery import shared_task

from . import pipeline, sweeping


@shared_task(acks_late=True)
def process_document(document_id: int) -> None:
    """Read, judge and match one received document."""
    pipeline.process_document(document_id=document_id)


@shared_task(acks_late=True)
def sweep_intake() -> dict:
    """Take in files from the drop folder and the mailbox, and pick up anything unread."""
    return sweeping.sweep()
