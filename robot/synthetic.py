"""Synthetic certificates for the demo, the benchmarks and the tests.

No public sample of a whole certificate exists (docs/architecture.md, D3), so the portal's samples
are synthetic. The police print the Rekvirent text that payroll entered on the
certificate; these helpers do the same, so that a demo or a benchmark can run the
robot end to end with provenance checks on. They make nothing the robot would believe
without the batch's secret reference, which only payroll sees.
"""

import io
import re

from pypdf import PdfReader

from portal.pdf import render_pdf

_REKVIRENT = re.compile(r"^Rekvirent:.*$", re.M)


def certificate_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with these lines of text, the first as a heading."""
    return render_pdf("letters/synthetic_certificate.html", {"lines": lines})


def with_requester(pdf: bytes, requester: str) -> bytes:
    """The same certificate's text, with its Rekvirent line saying `requester`."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    if _REKVIRENT.search(text):
        text = _REKVIRENT.sub(lambda _: f"Rekvirent: {requester}", text, count=1)
    else:
        text = f"{text}\nRekvirent: {requester}"
    return certificate_pdf([line for line in text.splitlines() if line.strip()])
