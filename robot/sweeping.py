"""The scheduled intake: the drop folder, the mailbox, and documents left unread."""

import datetime
import logging
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .intake import ingest
from .mailbox import poll_mailbox
from .models import Document

logger = logging.getLogger(__name__)

# A file younger than this may still be being written by whoever drops it.
SETTLE_SECONDS = 5


def sweep_drop_folder(folder: str | None = None) -> int:
    folder = Path(folder or settings.DROP_FOLDER) if (folder or settings.DROP_FOLDER) else None
    if folder is None or not folder.is_dir():
        return 0
    done = folder / "behandlet"
    done.mkdir(exist_ok=True)
    taken = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if time.time() - path.stat().st_mtime < SETTLE_SECONDS or path.name.startswith("."):
            continue
        with path.open("rb") as handle:
            ingest(iter(lambda: handle.read(1024 * 1024), b""), filename=path.name,
                   source=Document.Source.FOLDER)
        # Moved only once the document is stored: a crash before this re-reads the file,
        # and the hash makes that harmless.
        path.rename(done / f"{timezone.now():%Y%m%d%H%M%S}-{path.name}")
        taken += 1
    return taken


def requeue_unread() -> int:
    """Documents whose task was lost (a broker restart) are sent to a worker again."""
    from .tasks import process_document

    cutoff = timezone.now() - datetime.timedelta(minutes=5)
    ids = list(Document.objects.filter(state=Document.State.RECEIVED, received_at__lt=cutoff)
               .values_list("pk", flat=True)[:500])
    for pk in ids:
        process_document.delay(pk)
    return len(ids)


def sweep() -> dict:
    result = {"folder": 0, "mailbox": {}, "requeued": 0}
    try:
        result["folder"] = sweep_drop_folder()
    except OSError:
        logger.exception("Drop folder sweep failed")
    try:
        result["mailbox"] = poll_mailbox()
    except Exception:  # IMAP and network errors come in many classes; try again next time
        logger.exception("Mailbox poll failed")
    result["requeued"] = requeue_unread()
    return result
