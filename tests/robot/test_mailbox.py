"""The mailbox intake against a real IMAP server (dovecot) started on loopback."""

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from orders.models import OrderLine
from robot.mailbox import poll_mailbox
from robot.models import Document
from robot.pipeline import process_document

from ..conftest import SAMPLES
from .conftest import as_forwarded

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = static
  args = password=hemmelig
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap_server():
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="imap-", dir="/tmp"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    (root / "home").chmod(0o777)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Mail is owned by an unprivileged user, as dovecot insists.
    uid = gid = 65534 if os.geteuid() == 0 else None
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(root=root, port=port, uid=uid or os.getuid(), gid=gid or os.getgid())
    )
    subprocess.run([dovecot, "-c", str(config)], check=True)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"imap://attester:hemmelig@127.0.0.1:{port}/INBOX"
    subprocess.run([dovecot, "-c", str(config), "stop"], check=False)
    shutil.rmtree(root, ignore_errors=True)


def deliver(url: str, *messages: bytes) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("attester", "hemmelig")
    for message in messages:
        client.append("INBOX", None, None, message)
    client.logout()


def folder_counts(url: str) -> dict:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("attester", "hemmelig")
    counts = {}
    for folder in ("INBOX", "Behandlet", "Fejlet"):
        status, data = client.select(folder)
        counts[folder] = int(data[0]) if status == "OK" else None
    client.logout()
    return counts


def test_forwarded_certificates_are_fetched_stored_and_matched(imap_server, ordered_for):
    order = ordered_for("0101904321")
    no_attachment = b"From: x@kommune.example\r\nSubject: VS: Digitalpost\r\n\r\nIngen bilag.\r\n"
    deliver(
        imap_server, as_forwarded((SAMPLES / "boerneattest_ren.eml").read_bytes()), no_attachment
    )

    result = poll_mailbox(imap_server)

    assert result == {"stored": 2, "failed": 0}
    assert folder_counts(imap_server) == {"INBOX": 0, "Behandlet": 2, "Fejlet": 0}
    for document in Document.objects.filter(source="mailbox"):
        process_document(document_id=document.pk)
    assert order.lines.get(kind__code="child").status == OrderLine.Status.CLEARED
    assert Document.objects.get(source="mailbox", attachments__isnull=True).state == "needs_review"
    # Polling again finds nothing new and stores nothing twice.
    assert poll_mailbox(imap_server) == {"stored": 0, "failed": 0}


def test_a_message_that_cannot_be_stored_is_moved_to_failed_not_lost(imap_server, rules, settings):
    settings.DOCUMENT_ROOT = "/proc/attestportal-cannot-write-here"
    deliver(imap_server, (SAMPLES / "boerneattest_ren.eml").read_bytes())

    assert poll_mailbox(imap_server) == {"stored": 0, "failed": 1}

    assert folder_counts(imap_server) == {"INBOX": 0, "Behandlet": 0, "Fejlet": 1}
    assert not Document.objects.exists()


def test_a_wrong_password_raises_and_leaves_the_mailbox_alone(imap_server, rules):
    wrong = imap_server.replace("hemmelig", "forkert")
    deliver(imap_server, b"Subject: x\r\n\r\ny\r\n")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        poll_mailbox(wrong)
    assert folder_counts(imap_server)["INBOX"] == 1
