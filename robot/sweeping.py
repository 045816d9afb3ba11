"""The scheduled intake: the drop folder, the mailbox, and documents left unread."""

import datetime
import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .intake import ingest
from .mailbox import poll_mailbox
from .models import Document

logger = logging.getLogger(__name__)

# A file younger than this may still be being written by whoever drops it.
SETTLE_SECONDS = 5
# Where files too large to receive are put, with a note saying why; never read.
TOO_LARGE_FOLDER = "for-stor"


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
        if path.stat().st_size > settings.MAX_DOCUMENT_BYTES:
            _set_aside(path, folder / TOO_LARGE_FOLDER)
            continue
        with path.open("rb") as handle:
            ingest(
                iter(lambda: handle.read(1024 * 1024), b""),
                filename=path.name,
                source=Document.Source.FOLDER,
            )
        # Moved only once the document is stored: a crash before this re-reads the file,
        # and the hash makes that harmless.
        path.rename(done / f"{timezone.now():%Y%m%d%H%M%S}-{path.name}")
        taken += 1
    return taken


def _set_aside(path: Path, aside: Path) -> None:
    aside.mkdir(exist_ok=True)
    moved = aside / f"{timezone.now():%Y%m%d%H%M%S}-{path.name}"
    reason = _("The file is larger than %(mb)d MB and was not read.") % {
        "mb": settings.MAX_DOCUMENT_BYTES // (1024 * 1024)
    }
    path.rename(moved)
    moved.with_name(moved.name + ".txt").write_text(reason + "\n", encoding="utf-8")
    logger.warning(
        "Drop folder: %s is %d bytes, over the limit; moved to %s",
        path.name,
        moved.stat().st_size,
        aside,
    )


def unread_retry_window() -> tuple[datetime.timedelta, datetime.timedelta]:
    """When a document still waiting to be read is sent to a worker again, and when the
    robot gives up and hands it to a person: after at least three sweeps, and 15 minutes."""
    schedule = settings.CELERY_BEAT_SCHEDULE.get("intake", {}).get("schedule", 60)
    every = schedule if isinstance(schedule, (int, float)) else 60
    retry = datetime.timedelta(minutes=getattr(settings, "UNREAD_RETRY_MINUTES", 5))
    give_up = max(
        datetime.timedelta(minutes=getattr(settings, "UNREAD_GIVE_UP_MINUTES", 15)),
        datetime.timedelta(seconds=3 * every),
        retry,
    )
    return retry, give_up


def requeue_unread() -> int:
    """Documents whose task was lost (a broker restart) are sent to a worker again."""
    from .tasks import process_document

    retry, give_up = unread_retry_window()
    now = timezone.now()
    ids = list(
        Document.objects.filter(
            state=Document.State.RECEIVED,
            received_at__lt=now - retry,
            received_at__gte=now - give_up,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        process_document.delay(pk)
    return len(ids)


def hand_over_unread() -> int:
    """A document that several workers have failed to read (each died or lost it) goes to
    a person, so it is never stuck out of sight. Documents being read right now are locked
    by their worker and skipped."""
    give_up = unread_retry_window()[1]
    cutoff = timezone.now() - give_up
    with transaction.atomic():
        documents = list(
            Document.objects.select_for_update(skip_locked=True).filter(
                state=Document.State.RECEIVED, received_at__lt=cutoff
            )[:500]
        )
        for document in documents:
            document.state = Document.State.NEEDS_REVIEW
            document.outcome = Document.Outcome.NEEDS_REVIEW
            document.reason = _(
                "The robot tried to read the file several times without "
                "finishing; a person must look at it."
            )
            document.save(update_fields=["state", "outcome", "reason"])
            logger.warning(
                "Document %s was not read in %s; handed to a person", document.pk, give_up
            )
    return len(documents)


def sweep() -> dict:
    result = {"folder": 0, "mailbox": {}, "requeued": 0, "handed_over": 0}
    try:
        result["folder"] = sweep_drop_folder()
    except OSError:
        logger.exception("Drop folder sweep failed")
    try:
        result["mailbox"] = poll_mailbox()
    except Exception:  # IMAP and network errors come in many classes; try again next time
        logger.exception("Mailbox poll failed")
    result["handed_over"] = hand_over_unread()
    result["requeued"] = requeue_unread()
    return result
