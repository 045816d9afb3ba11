"""Reading text out of returned files without trusting them.

Whatever arrives (a truncated PDF, an encrypted one, a decompression bomb, an HTML
page renamed .pdf, a scan without text) ends as text or as a reason a person can
read; nothing here may crash a worker.
"""

import logging
from dataclasses import dataclass
from io import BytesIO

from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

logger = logging.getLogger(__name__)

MAX_PAGES = 20
# Fewer visible characters than this on a page with content is a scan, not a certificate.
MIN_TEXT_CHARS = 40


@dataclass
class Extracted:
    text: str = ""
    problem: str = ""  # why no usable text could be read; empty when text is usable
    doubt: str = ""    # text was read, but part of the document may not be in it

    @property
    def ok(self) -> bool:
        return not self.problem


def pdf_text(data: bytes) -> Extracted:
    # pypdf skips junk before "%PDF-"; an HTML page renamed .pdf must not pass.
    if not data.startswith(b"%PDF-"):
        return Extracted(problem=_("Not a PDF file (it does not start with %PDF-)."))
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return Extracted(problem=_("The PDF is encrypted with a password."))
            except (FileNotDecryptedError, NotImplementedError):
                return Extracted(problem=_("The PDF is encrypted with a password."))
        if len(reader.pages) > MAX_PAGES:
            return Extracted(problem=_("The PDF has %(count)d pages; a certificate has a few.")
                             % {"count": len(reader.pages)})
        pages = [page.extract_text() or "" for page in reader.pages]
        text = "\n".join(pages)
        # A page that is an image (a scan) holds text the robot cannot read.
        doubt = ""
        for number, (page, page_text) in enumerate(zip(reader.pages, pages), start=1):
            if len("".join(page_text.split())) < MIN_TEXT_CHARS and _has_images(page):
                doubt = _("Page %(page)d is an image; its text cannot be read.") % {
                    "page": number}
                break
    except PyPdfError as error:  # includes LimitReachedError (decompression bombs)
        return Extracted(problem=_("The PDF could not be read: %(error)s")
                         % {"error": type(error).__name__})
    except Exception as error:  # pypdf raises plain errors on some broken files too
        logger.warning("Unexpected error reading a PDF: %s", type(error).__name__)
        return Extracted(problem=_("The PDF could not be read: %(error)s")
                         % {"error": type(error).__name__})
    if len("".join(text.split())) < MIN_TEXT_CHARS:
        return Extracted(text=text, problem=_("The PDF has no readable text (a scanned image?)."))
    return Extracted(text=text, doubt=doubt)


def _has_images(page) -> bool:
    resources = page.get("/Resources") or {}
    xobjects = resources.get("/XObject") or {}
    try:
        return any(xobjects[name].get_object().get("/Subtype") == "/Image" for name in xobjects)
    except (PyPdfError, AttributeError, KeyError, TypeError):
        return True  # cannot tell: assume the worst
