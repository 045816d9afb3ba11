"""Receiving files: stored first, outside the web root, under generated names.

The original bytes are kept whatever they are; the same file received twice is one
document (by SHA-256). Reading and judging happen afterwards, in a task.
"""

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portal.models import User

from .models import Document, Upload

CHUNK = 1024 * 1024


def storage_root() -> Path:
    root = Path(settings.DOCUMENT_ROOT)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def document_path(document: Document) -> Path:
    return storage_root() / document.stored_name[:2] / document.stored_name


def read_document(document: Document) -> bytes:
    return document_path(document).read_bytes()


def ingest(
    chunks: Iterable[bytes],
    *,
    filename: str,
    source: str,
    upload: Upload | None = None,
    by: User | None = None,
    parent: Document | None = None,
    process: bool = True,
) -> tuple[Document, bool]:
    """Store a received file and create its document. Returns (document, created); a file
    received before returns the existing document and stores nothing."""
    stored_name = uuid.uuid4().hex
    tmp = storage_root() / f".incoming-{stored_name}"
    digest, size = hashlib.sha256(), 0
    with open(tmp, "wb") as out:
        os.chmod(tmp, 0o600)
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    sha256 = digest.hexdigest()
    final = storage_root() / stored_name[:2] / stored_name
    final.parent.mkdir(exist_ok=True, mode=0o700)
    tmp.rename(final)
    too_large = size > settings.MAX_DOCUMENT_BYTES
    # Outside a transaction the insert commits by itself, one round trip instead of three
    # (BEGIN, INSERT, COMMIT); inside one, a savepoint keeps a duplicate from breaking it.
    guard = (
        transaction.atomic()
        if transaction.get_connection().in_atomic_block
        else contextlib.nullcontext()
    )
    try:
        with guard:
            document = Document.objects.create(
                sha256=sha256,
                original_name=(filename or "ukendt")[:255],
                stored_name=stored_name,
                size=size,
                source=source,
                upload=upload,
                received_by=by,
                parent=parent,
                state=Document.State.UNREADABLE if too_large else Document.State.RECEIVED,
                outcome=Document.Outcome.UNREADABLE if too_large else "",
                reason=_("The file is larger than %(mb)d MB and was not read.")
                % {"mb": settings.MAX_DOCUMENT_BYTES // CHUNK}
                if too_large
                else "",
            )
    except IntegrityError:
        # Received before (the hash is unique): keep the first, drop this copy.
        final.unlink(missing_ok=True)
        return Document.objects.get(sha256=sha256), False
    if process and not too_large:
        from .tasks import process_document

        process_document.delay_on_commit(document.pk)
    return document, True


def ingest_bytes(data: bytes, **kwargs) -> tuple[Document, bool]:
    return ingest([data], **kwargs)


def received_before(document: Document, *, name: str) -> str:
    """What to tell someone who sends a file again: where the first copy is now."""
    values = {
        "name": name,
        "state": document.get_state_display(),
        "date": formats.date_format(
            timezone.localtime(document.received_at), "SHORT_DATETIME_FORMAT"
        ),
    }
    if document.state in Document.QUEUE_STATES:
        return (
            _(
                "%(name)s was received before (%(date)s) and is in payroll's queue under "
                "“%(state)s”."
            )
            % values
        )
    return _("%(name)s was received before (%(date)s); its state is “%(state)s”.") % values
