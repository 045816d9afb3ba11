"""Digital Post messages forwarded to a mailbox: the notice lines and the attached PDFs.

The message itself is parsed in the sandbox's reader (robot/sandbox.py, with
robot/message_parse.py), under the limits of reading a PDF: a hostile message (a Subject of
thousands of encoded words, tens of thousands of parts) costs the standard library's
parser minutes and gigabytes, which the worker must not spend. What comes back is plain
text and the PDFs' bytes; the notice lines are read here.
"""

import logging
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from portal.cpr import InvalidCpr, normalise_cpr

from . import sandbox
from .extraction import read_limits

logger = logging.getLogger(__name__)

_NOTICE_CPR = re.compile(r"Persondata\s*-\s*CPR-nummer:\s*(\d{6}\s*-?\s*\d{4})", re.I)
_ATT = re.compile(r"^\s*Att:\s*(.+)$", re.M | re.I)
_EMNE = re.compile(r"^\s*Emne:\s*(.+)$", re.M | re.I)
_SENDER = re.compile(r"^\s*Afsender:\s*(.+)$", re.M | re.I)


@dataclass
class Notice:
    cpr: str | None = None
    att: str = ""
    subject: str = ""
    sender: str = ""

    @property
    def kind_hint(self) -> str | None:
        """What the subject line says: refusal, child, criminal (public or private)."""
        subject = self.subject.casefold()
        if "afslag" in subject:
            return "refusal"
        if "børneatt" in subject:
            return "child"
        if "straffeatt" in subject:
            return "criminal"
        return None


@dataclass
class ForwardedMessage:
    notice: Notice
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # PDFs only
    other_attachments: list[str] = field(default_factory=list)


class UnreadableMessage(Exception):
    """The message breached a limit or could not be parsed; `reason` says so in Danish."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_message(data: bytes) -> ForwardedMessage:
    """The notice lines and the attachments of a received message, parsed in the sandbox.
    Raises UnreadableMessage, with a reason for a person, when it could not be."""
    limits = read_limits()
    outcome = sandbox.read_message(data, **limits)
    if outcome.status != sandbox.DONE:
        logger.warning(
            "Message not read: %s %s (%.1f s CPU, %d MB)",
            outcome.status,
            outcome.detail,
            outcome.cpu_seconds,
            outcome.maxrss_kb // 1024,
        )
        raise UnreadableMessage(limit_problem(outcome, limits))
    answer = outcome.answer
    if answer["problem"]:
        raise UnreadableMessage(_problem(answer["problem"], answer["args"]))
    pdfs, start = [], 0
    for name, size in answer["pdfs"]:
        pdfs.append((name, outcome.content[start : start + size]))
        start += size
    text = answer["text"]
    notice = Notice(subject=answer["subject"])
    if match := _NOTICE_CPR.search(text):
        try:
            notice.cpr = normalise_cpr(match.group(1))
        except InvalidCpr:
            notice.cpr = None
    if match := _ATT.search(text):
        notice.att = match.group(1).strip()
    if match := _EMNE.search(text):
        notice.subject = match.group(1).strip()
    if match := _SENDER.search(text):
        notice.sender = match.group(1).strip()
    return ForwardedMessage(notice=notice, attachments=pdfs, other_attachments=answer["others"])


def limit_problem(outcome: sandbox.Outcome, limits: dict) -> str:
    """Why the sandbox gave up on a message (parsing it, or checking who forwarded it)."""
    if outcome.status == sandbox.CPU:
        return _("The message took too long to read (over %(seconds)s s of CPU).") % {
            "seconds": f"{limits['cpu_seconds']:g}"
        }
    if outcome.status == sandbox.MEMORY:
        return _("The message needed too much memory to read (over %(mb)s MB).") % {
            "mb": limits["memory_mb"]
        }
    if outcome.status == sandbox.TIMEOUT:
        return _("The message took too long to read (over %(seconds)s s).") % {
            "seconds": f"{limits['wall_seconds']:g}"
        }
    return _("The message could not be read: %(error)s") % {"error": outcome.detail or "crash"}


def _problem(code: str, args: dict) -> str:
    if code == "depth":
        return _("The message's parts are nested more than %(limit)d deep.") % args
    if code == "parts":
        return _("The message has more than %(limit)d parts.") % args
    if code == "text":
        return _("The message's text is longer than %(limit)d characters.") % args
    if code == "pdfs":
        return _("The message has more than %(limit)d PDF attachments.") % args
    if code == "pdf_bytes":
        return _("The message's PDF attachments together are larger than %(limit)d MB.") % args
    return _("The message could not be read: %(error)s") % args
