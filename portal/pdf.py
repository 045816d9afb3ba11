"""PDFs from templates through WeasyPrint; every asset is read from disk."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative URLs in templates resolve against this address, which is never contacted.
BASE_URL = "https://portal.invalid/"


class StaticFilesFetcher(URLFetcher):
    """Serves {% static %} URLs from the staticfiles finders and refuses everything else,
    so rendering never waits on the network (or on the portal itself)."""

    def fetch(self, url, headers=None):
        prefix = BASE_URL + settings.STATIC_URL.lstrip("/")
        if url.startswith(prefix):
            path = finders.find(url[len(prefix) :].split("?")[0])
            if path:
                mime_type, _ = mimetypes.guess_type(path)
                return URLFetcherResponse(
                    url,
                    Path(path).read_bytes(),
                    {"Content-Type": mime_type or "application/octet-stream"},
                )
        if url.startswith("data:"):
            return super().fetch(url, headers)
        raise ValueError(f"Not fetched while rendering a PDF: {url}")


def render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf()


def letter_context(**context) -> dict:
    """What every letter's layout shows: the municipality, its logo and payroll's contact."""
    return {
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAME,
        "MUNICIPALITY_LOGO": settings.MUNICIPALITY_LOGO,
        "PAYROLL_CONTACT": settings.PAYROLL_CONTACT,
        "CONSENT_DAYS": settings.CONSENT_DAYS,
        "today": timezone.localdate(),
        **context,
    }
