"""Reading text out of returned files without trusting them.

Whatever arrives (a truncated PDF, an encrypted one, a decompression bomb, an HTML
page renamed .pdf, a scan without text) ends as text or as a reason a person can
read; nothing here may crash a worker.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from . import sandbox

logger = logging.getLogger(__name__)

MAX_PAGES = 20
# Fewer visible characters than this on a page with content is a scan, not a certificate.
MIN_TEXT_CHARS = 40


@dataclass
class Extracted:
    text: str = ""
    problem: str = ""  # why no usable text could be read; empty when text is usable
    doubt: str = ""  # text was read, but part of the document may not be in it

    @property
    def ok(self) -> bool:
        return not self.problem


def read_limits() -> dict:
    """The limits one PDF is read under (settings PDF_READ_CPU_SECONDS, PDF_READ_MEMORY_MB).
    The wall-clock limit is a little above the CPU limit: a child waiting for a busy CPU
    is not the PDF's fault, a child that sleeps or hangs is killed all the same."""
    cpu = float(getattr(settings, "PDF_READ_CPU_SECONDS", 20))
    return {
        "cpu_seconds": cpu,
        "memory_mb": int(getattr(settings, "PDF_READ_MEMORY_MB", 512)),
        "wall_seconds": cpu + max(5.0, cpu / 4),
    }


def pdf_text(data: bytes) -> Extracted:
    # pypdf skips junk before "%PDF-"; an HTML page renamed .pdf must not pass.
    if not data.startswith(b"%PDF-"):
        return Extracted(problem=_("Not a PDF file (it does not start with %PDF-)."))
    # Parsed in a child process with CPU and memory limits: a hostile PDF ends there.
    limits = read_limits()
    outcome = sandbox.read(data, max_pages=MAX_PAGES, min_text_chars=MIN_TEXT_CHARS, **limits)
    if outcome.status != sandbox.DONE:
        logger.warning(
            "PDF not read: %s %s (%.1f s CPU, %d MB)",
            outcome.status,
            outcome.detail,
            outcome.cpu_seconds,
            outcome.maxrss_kb // 1024,
        )
        return Extracted(problem=limit_problem(outcome, limits))
    answer = outcome.answer
    active = _active_content(answer)
    problem = _problem(answer)
    if problem:
        return Extracted(text=answer["text"], problem=" ".join(filter(None, [problem, active])))
    text = answer["text"]
    if len("".join(text.split())) < MIN_TEXT_CHARS:
        return Extracted(
            text=text,
            problem=" ".join(
                filter(None, [_("The PDF has no readable text (a scanned image?)."), active])
            ),
        )
    doubt = (
        _("Page %(page)d is an image; its text cannot be read.") % answer["doubt_args"]
        if answer["doubt"] == "image_page"
        else ""
    )
    # Active content comes first: it is the reason a person must look before trusting it.
    return Extracted(text=text, doubt=" ".join(filter(None, [active, doubt])))


def limit_problem(outcome: sandbox.Outcome, limits: dict) -> str:
    """Why the sandbox gave up on a PDF (reading it, checking its signature, merging it)."""
    if outcome.status == sandbox.CPU:
        return _("The PDF took too long to read (over %(seconds)s s of CPU).") % {
            "seconds": f"{limits['cpu_seconds']:g}"
        }
    if outcome.status == sandbox.MEMORY:
        return _("The PDF needed too much memory to read (over %(mb)s MB).") % {
            "mb": limits["memory_mb"]
        }
    if outcome.status == sandbox.TIMEOUT:
        return _("The PDF took too long to read (over %(seconds)s s).") % {
            "seconds": f"{limits['wall_seconds']:g}"
        }
    return _("The PDF could not be read: %(error)s") % {"error": outcome.detail or "crash"}


def _problem(answer: dict) -> str:
    code, args = answer["problem"], answer["args"]
    if code == "encrypted":
        return _("The PDF is encrypted with a password.")
    if code == "pages":
        return _("The PDF has %(count)d pages; a certificate has a few.") % args
    if code:
        return _("The PDF could not be read: %(error)s") % args
    return ""


def _active_content(answer: dict) -> str:
    names = {
        "javascript": _("JavaScript"),
        "open_action": _("an action when it is opened"),
        "actions": _("actions triggered by the reader (/AA)"),
        "launch": _("an action that starts a program or sends data"),
        "embedded_file": _("an embedded file"),
        "xfa": _("an XFA form"),
    }
    found = [names.get(kind, kind) for kind in answer["active"]]
    if found:
        return _("The PDF contains active content (%(what)s): a person must check it.") % {
            "what": ", ".join(found)
        }
    if not answer["active_complete"]:
        return _("The PDF is too complex to check for active content: a person must check it.")
    return ""
