from celery import shared_task

from . import deadlines, notifications


@shared_task(acks_late=True)
def process_deadlines() -> dict:
    """Reminders, expiry and start-date warnings; safe to run as often as the schedule likes."""
    return vars(deadlines.process_deadlines())


@shared_task(acks_late=True)
def send_notification(notification_id: int) -> None:
    """Send one recorded e-mail."""
    notifications.send_notification(notification_id=notification_id)


@shared_task(acks_late=True)
def send_pending_notifications() -> int:
    """Send waiting e-mails and retry failed ones."""
    return notifications.send_pending_notifications()
