from celery import shared_task

from . import deadlines, hires, notifications


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


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def poll_sd() -> str:
    """Fetch new and changed employments from SD Løn and apply them."""
    record = hires.poll_sd()
    return record.state if record else "off"
