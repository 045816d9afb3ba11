"""SD Løn's web services (HTTPS, basic auth, XML answers): one client for the
organisation import (portal/org_sources.py) and the new hires (orders/hires/sources.py).

SD's services are named with the date of their version (GetDepartment20111201, ...) and
take their parameters as a query string or form fields; dates are dd.mm.yyyy.
No CPR number may reach a log line or an exception message from here.
"""

import datetime
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable

import requests
import urllib3
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from django.conf import settings
from django.utils.translation import gettext as _

from .cpr import redact_cprs


class SDError(Exception):
    """SD could not be asked or did not answer usefully; the message is fit for the user."""


def sd_date(day: datetime.date) -> str:
    return day.strftime("%d.%m.%Y")


class SDClient:
    def __init__(self, *, url: str, username: str, password: str, institution: str, timeout: float):
        self.url = url.rstrip("/")
        self.auth = (username, password)
        self.institution = institution
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> "SDClient":
        return cls(
            url=settings.SD_URL,
            username=settings.SD_USERNAME,
            password=settings.SD_PASSWORD,
            institution=settings.SD_INSTITUTION,
            timeout=settings.SD_TIMEOUT,
        )

    def call(self, service: str, params: dict[str, str], *, post: bool = False) -> ET.Element:
        """Ask one service; `post` sends the parameters as form fields, so that a CPR
        number among them is in no URL (and no access log on the way)."""
        params = {"InstitutionIdentifier": self.institution, **params}
        try:
            if post:
                response = requests.post(
                    f"{self.url}/{service}",
                    data=params,
                    auth=self.auth,
                    timeout=self.timeout,
                    stream=True,
                )
            else:
                response = requests.get(
                    f"{self.url}/{service}",
                    params=params,
                    auth=self.auth,
                    timeout=self.timeout,
                    stream=True,
                )
            with response:
                if response.status_code != 200:
                    raise SDError(
                        _("SD Løn answered with HTTP status %(status)s.")
                        % {"status": response.status_code}
                    )
                content = read_limited(response)
        except requests.Timeout:
            raise SDError(_("SD Løn did not answer in time.")) from None
        except requests.RequestException as error:
            raise SDError(
                _("SD Løn could not be reached: %(error)s") % {"error": type(error).__name__}
            ) from None
        return parse_sd_xml(content)


def read_limited(response: requests.Response) -> bytes:
    """The body in pieces, refused as soon as it passes SD_MAX_RESPONSE_MB or has taken
    SD_MAX_RESPONSE_SECONDS: never read whole first, as an answer may be any size. Each
    piece is one read from the socket (read1), so an answer that drips a byte at a time
    ends at the deadline plus at most one SD_TIMEOUT, and a compressed answer is
    unpacked a piece at a time and counted unpacked."""
    limit = settings.SD_MAX_RESPONSE_MB * 1024 * 1024
    deadline = time.monotonic() + settings.SD_MAX_RESPONSE_SECONDS
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    body = bytearray()
    try:
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            body += chunk
            if len(body) > limit:
                raise _too_large()
            if time.monotonic() > deadline:
                raise SDError(_("SD Løn did not answer in time."))
    except urllib3.exceptions.TimeoutError:
        raise SDError(_("SD Løn did not answer in time.")) from None
    except urllib3.exceptions.HTTPError as error:
        raise SDError(
            _("SD Løn could not be reached: %(error)s") % {"error": type(error).__name__}
        ) from None
    return bytes(body)


def _too_large() -> SDError:
    return SDError(
        _("SD Løn's answer is larger than %(limit)s MB; it has not been read.")
        % {"limit": settings.SD_MAX_RESPONSE_MB}
    )


def parse_sd_xml(content: bytes) -> ET.Element:
    # SD never sends a DTD: one anywhere in the answer (it could expand entities without
    # end or fetch files) is refused by defusedxml, not looked for in the first bytes.
    try:
        root = defused_fromstring(
            content, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise SDError(_("SD Løn's answer contains a DTD or entities and was not read.")) from None
    except ET.ParseError:
        raise SDError(_("SD Løn's answer could not be read.")) from None
    if local(root.tag) == "Fault" or root.find(".//{*}faultstring") is not None:
        # SD's fault text may echo the request, and GetPerson's carries a CPR number:
        # masked before it becomes a message that is logged and stored.
        fault = redact_cprs((root.findtext(".//{*}faultstring") or "").strip())
        raise SDError(_("SD Løn reported an error: %(message)s") % {"message": fault[:200]})
    return root


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(element, name: str):
    return next((c for c in element if local(c.tag) == name), None)


def children(element, name: str) -> Iterable:
    return (c for c in element if local(c.tag) == name)


def text(element, name: str) -> str:
    found = child(element, name) if element is not None else None
    return (found.text or "").strip() if found is not None else ""
