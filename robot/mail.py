"""Digital Post messages forwarded to a mailbox: the notice lines and the attached PDFs."""

import email
import re
from dataclasses import dataclass, field
from email import policy

from portal.cpr import InvalidCpr, normalise_cpr

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


def parse_message(data: bytes) -> ForwardedMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    text_parts, pdfs, others = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        content_type = part.get_content_type()
        if content_type == "application/pdf" or filename.lower().endswith(".pdf"):
            pdfs.append((filename or "attachment.pdf", part.get_payload(decode=True) or b""))
        elif content_type == "text/plain" and not filename:
            try:
                text_parts.append(part.get_content())
            except (LookupError, UnicodeError):
                text_parts.append((part.get_payload(decode=True) or b"").decode("latin-1"))
        elif filename:
            others.append(filename)
    text = "\n".join(text_parts)
    notice = Notice(subject=str(message.get("Subject", "")))
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
    return ForwardedMessage(notice=notice, attachments=pdfs, other_attachments=others)
