"""The mailbox where municipalities receive forwarded Digital Post (IMAP).

A message is moved to the processed folder only after its document is stored and
committed; one that cannot be stored goes to the failed folder, and nothing is deleted.
"""

import imaplib
import logging
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from django.conf import settings

from .intake import ingest_bytes
from .models import Document

logger = logging.getLogger(__name__)


@dataclass
class MailboxConfig:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> "MailboxConfig":
        parsed = urlparse(url)
        ssl = parsed.scheme == "imaps"
        return cls(
            host=parsed.hostname or "localhost",
            port=parsed.port or (993 if ssl else 143),
            ssl=ssl,
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            folder=parsed.path.lstrip("/") or "INBOX",
        )


def _connect(config: MailboxConfig) -> imaplib.IMAP4:
    cls = imaplib.IMAP4_SSL if config.ssl else imaplib.IMAP4
    client = cls(config.host, config.port, timeout=settings.IMAP_TIMEOUT)
    client.login(config.user, config.password)
    return client


def _ensure_folder(client: imaplib.IMAP4, folder: str) -> None:
    client.create(folder)  # answers NO when it exists, which is fine


def _move(client: imaplib.IMAP4, uid: bytes, folder: str) -> None:
    """Move one message, finished before the next one is touched (no batch expunge that a
    crash could leave half done)."""
    if b"MOVE" in b" ".join(
        client.capabilities
        if isinstance(client.capabilities[0], bytes)
        else [c.encode() for c in client.capabilities]
    ):
        status, _ = client.uid("MOVE", uid, folder)
        if status != "OK":
            raise imaplib.IMAP4.error(f"MOVE to {folder} failed")
        return
    status, _ = client.uid("COPY", uid, folder)
    if status != "OK":
        raise imaplib.IMAP4.error(f"COPY to {folder} failed")
    client.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
    client.expunge()


def poll_mailbox(url: str | None = None) -> dict:
    """Store every message in the mailbox folder as a document, then move it away."""
    url = url or settings.IMAP_URL
    if not url:
        return {"stored": 0, "failed": 0}
    config = MailboxConfig.from_url(url)
    stored = failed = 0
    client = _connect(config)
    try:
        for folder in (settings.IMAP_PROCESSED_FOLDER, settings.IMAP_FAILED_FOLDER):
            _ensure_folder(client, folder)
        client.select(config.folder)
        status, data = client.uid("SEARCH", None, "UNDELETED")
        for uid in (data[0] or b"").split():
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            try:
                if raw is None:
                    raise ValueError("empty message")
                ingest_bytes(
                    raw, filename=f"mail-{uid.decode()}.eml", source=Document.Source.MAILBOX
                )
            except Exception:
                logger.exception("Could not store mailbox message %s", uid.decode())
                try:
                    _move(client, uid, settings.IMAP_FAILED_FOLDER)
                except imaplib.IMAP4.error:
                    logger.exception("Could not move message %s to the failed folder", uid.decode())
                failed += 1
            else:
                # Stored and committed (ingest commits in autocommit mode): safe to move.
                _move(client, uid, settings.IMAP_PROCESSED_FOLDER)
                stored += 1
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return {"stored": stored, "failed": failed}
