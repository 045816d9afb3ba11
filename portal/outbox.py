"""The e-mail outbox as the organisation app reaches it.

Every e-mail the portal sends is a row in the orders app's outbox (orders/notifications.py):
written in the transaction that causes it, sent by the worker after commit, retried with
backoff and left failed, with its error, where an administrator sees it. The organisation
app comes first in the direction imports point (tests/test_architecture.py), so it may not
import orders; moving the outbox here instead would move a table whose rows point at
orders and new hires. Settings wire the apps together, so they name the outbox
(EMAIL_OUTBOX) and this function looks it up when it is called.
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils.module_loading import import_string


def queue_email(*, template: str, key: str, to: Iterable[str], context: dict) -> None:
    """Record an e-mail for sending after commit; each template and key goes out once."""
    outbox = import_string(settings.EMAIL_OUTBOX)
    outbox(template=template, key=key, to=list(to), context=context)
