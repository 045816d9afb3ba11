"""Did a forwarded message really come from the municipality's own forwarding?

A `From:` header, or a body line such as "Afsender: Rigspolitiet", is typed by whoever
sends the message and proves nothing (docs/threat-model.md, T2). A message counts as forwarded by
the municipality only when its single From address is a configured forwarder and one
of two pieces of evidence ties that address's domain to the message:

DKIM. A DKIM-Signature verifies (RFC 6376, via dkimpy) and its d= domain is the From
domain or a parent of it (DMARC-style relaxed alignment; a one-label d= such as "dk" is
never aligned). The signature must sign From, must not use rsa-sha1 (RFC 8301) and must
not carry an l= body length: with l= anyone could append a part, say another PDF, below
the signed body and keep the signature valid.

Authentication-Results (RFC 8601). The header says dkim=pass with header.d (or the
domain of header.i) aligned as above, or dmarc=pass with header.from equal to the From
domain. Which of these headers are believed:

- Only those whose authserv-id (the first token) is configured. RFC 8601 §5 makes a
  receiving MTA delete any Authentication-Results header arriving from outside that
  claims its own authserv-id, and §7.2 tells consumers to use only the authserv-ids of
  their own trust boundary; every other header was typed by someone we cannot hold to
  account. Configure only servers that really do strip such headers.
- Of those, only the topmost one. Such headers are prepended (RFC 8601 §4), so the
  topmost configured one is the last verdict of our own server; a "pass" further down
  is older or forged and cannot outvote it. This also protects us if the server adds its
  verdict but fails to strip a forged copy.
- No rule on position relative to Received: or other fields. Exchange Online rewrites
  the header order (its verdict sits among the X-MS-Exchange fields), and a message
  relayed internally after the border gets more Received: fields above the verdict, so
  "above the first Received:" would reject honest mail without adding protection
  beyond the two rules above. (Exchange Online's own header has no authserv-id at all
  and so never counts; with it, rely on DKIM.)

check_message_origin never raises: anything it cannot read is simply not trusted.
"""

import email
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses

import dkim
from django.utils.translation import gettext as _
from dkim import dnsplug

DKIM, AUTHENTICATION_RESULTS = "dkim", "authentication-results"
DNS_TIMEOUT_SECONDS = 5
_DKIM_LOGGER = logging.getLogger(__name__)  # dkimpy reports why a signature failed here

DnsFunc = Callable[..., bytes | None]

_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class MailOrigin:
    trusted: bool
    method: str  # "dkim", "authentication-results" or "" when not trusted
    reason: str  # for the payroll clerk, in Danish
    sender: str  # the From address, "" when there was no single one


def check_message_origin(
    raw: bytes,
    *,
    trusted_senders: list[str],
    trusted_authserv_ids: list[str],
    dnsfunc: DnsFunc | None = None,
) -> MailOrigin:
    """Was this message sent by a configured forwarder, as DKIM or our mail server shows?"""
    try:
        return _check(raw, trusted_senders, trusted_authserv_ids, dnsfunc)
    except Exception:  # hostile input must end as "not trusted", never a crash
        return MailOrigin(False, "", _("The message could not be read."), "")


def _check(raw, trusted_senders, trusted_authserv_ids, dnsfunc) -> MailOrigin:
    if not isinstance(raw, bytes) or not raw.strip():
        return MailOrigin(False, "", _("The message could not be read."), "")
    message = email.message_from_bytes(raw, policy=policy.compat32)
    sender = _single_sender(message)
    if not sender:
        return MailOrigin(False, "", _("The message does not have exactly one sender address."), "")
    domain = sender.rpartition("@")[2]
    if not _is_trusted_sender(sender, trusted_senders):
        return MailOrigin(
            False,
            "",
            _("The forwarding sender %(sender)s is not a configured forwarder.")
            % {"sender": sender},
            sender,
        )

    dkim_outcome = _check_dkim(raw, domain, dnsfunc)
    if dkim_outcome.aligned_domain:
        return MailOrigin(
            True,
            DKIM,
            _("The DKIM signature of %(domain)s verifies.")
            % {"domain": dkim_outcome.aligned_domain},
            sender,
        )

    server = _passing_authentication_results(message, domain, trusted_authserv_ids)
    if server:
        return MailOrigin(
            True,
            AUTHENTICATION_RESULTS,
            _("The receiving mail server %(server)s says the message passed.") % {"server": server},
            sender,
        )

    if dkim_outcome.foreign_domain:
        reason = _(
            "The DKIM signature belongs to %(domain)s, not to the sender's domain "
            "%(sender_domain)s."
        ) % {"domain": dkim_outcome.foreign_domain, "sender_domain": domain}
    elif dkim_outcome.lookup_failed:
        reason = _("The DKIM key could not be looked up, so the signature could not be checked.")
    elif dkim_outcome.signed:
        reason = _("The DKIM signature does not verify.")
    else:
        reason = _(
            "The message has no DKIM signature, and no trusted "
            "Authentication-Results header says the message passed."
        )
    return MailOrigin(False, "", reason, sender)


def _single_sender(message) -> str:
    headers = message.get_all("From") or []
    if len(headers) != 1:
        return ""
    addresses = [address for _name, address in getaddresses([str(headers[0])])]
    if len(addresses) != 1:
        return ""
    address = addresses[0].strip().lower()
    local, at, domain = address.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or "@" in local or not _DOMAIN.fullmatch(domain):
        return ""
    return f"{local}@{domain}"


def _is_trusted_sender(sender: str, trusted_senders: list[str]) -> bool:
    """Entries are full addresses or domains ("@kommune.dk"); a domain does not cover its
    subdomains, as a subdomain may be run by someone else."""
    domain = sender.rpartition("@")[2]
    for entry in trusted_senders:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if "@" in entry.lstrip("@"):
            if entry == sender:
                return True
        elif entry.lstrip("@") == domain:
            return True
    return False


def _aligned(signing_domain: str, from_domain: str) -> bool:
    signing_domain = signing_domain.strip().lower().rstrip(".")
    return "." in signing_domain and (
        from_domain == signing_domain or from_domain.endswith("." + signing_domain)
    )


@dataclass
class _DkimOutcome:
    signed: bool = False
    aligned_domain: str = ""  # a verifying signature aligned with From
    foreign_domain: str = ""  # a verifying signature of another domain
    lookup_failed: bool = False


def _check_dkim(raw: bytes, from_domain: str, dnsfunc: DnsFunc | None) -> _DkimOutcome:
    outcome = _DkimOutcome()
    lookup = dnsfunc or dnsplug.get_txt  # real DNS, with DNS_TIMEOUT_SECONDS

    def recording_lookup(name, timeout=DNS_TIMEOUT_SECONDS):
        try:
            record = lookup(name, timeout=timeout)
        except Exception:
            record = None
        if not record:
            outcome.lookup_failed = True
        return record

    try:
        verifier = dkim.DKIM(raw, timeout=DNS_TIMEOUT_SECONDS, logger=_DKIM_LOGGER)
    except Exception:  # unreadable for DKIM: Authentication-Results may still tell
        return outcome
    count = sum(1 for name, _value in verifier.headers if name.lower() == b"dkim-signature")
    outcome.signed = count > 0
    for index in range(count):
        try:
            verifier = dkim.DKIM(raw, timeout=DNS_TIMEOUT_SECONDS, logger=_DKIM_LOGGER)
            if not verifier.verify(idx=index, dnsfunc=recording_lookup):
                continue
            fields = verifier.signature_fields
        except Exception:
            continue
        if (
            b"from" not in verifier.include_headers
            or b"l" in fields
            or fields.get(b"a", b"").lower() == b"rsa-sha1"
        ):
            continue
        domain = fields[b"d"].decode("ascii", "replace").strip().lower().rstrip(".")
        if _aligned(domain, from_domain):
            outcome.aligned_domain = domain
            return outcome
        outcome.foreign_domain = outcome.foreign_domain or domain
    return outcome


def _passing_authentication_results(
    message, from_domain: str, trusted_authserv_ids: list[str]
) -> str:
    """The authserv-id of the topmost trusted Authentication-Results header, if it says
    the From domain passed DKIM or DMARC; "" otherwise."""
    trusted = {entry.strip().lower() for entry in trusted_authserv_ids if entry.strip()}
    for value in message.get_all("Authentication-Results") or []:
        authserv_id, results = _parse_authentication_results(str(value))
        if authserv_id not in trusted:
            continue
        return authserv_id if _says_pass(results, from_domain) else ""
    return ""


def _says_pass(results: list[tuple[str, str, dict[str, str]]], from_domain: str) -> bool:
    for method, result, properties in results:
        if result != "pass":
            continue
        if method == "dkim":
            signer = properties.get("header.d") or properties.get("header.i", "").rpartition("@")[2]
            if signer and _aligned(signer, from_domain):
                return True
        elif method == "dmarc":
            if properties.get("header.from", "").strip().lower().rstrip(".") == from_domain:
                return True
    return False


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[=;]|[^\s=;"()]+')


def _parse_authentication_results(value: str) -> tuple[str, list[tuple[str, str, dict]]]:
    """authserv-id and [(method, result, {ptype.property: value})] of one header (RFC 8601
    §2.2), tolerant of comments, folding and quoted values."""
    tokens = _TOKEN.findall(_without_comments(value))
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    head = segments[0]
    authserv_id = head[0].strip('"').lower() if head else ""
    results = []
    for segment in segments[1:]:
        pairs = _pairs(segment)
        if not pairs:
            continue  # "none", or something unreadable
        method, result = pairs[0]
        results.append((method.partition("/")[0], result, {key: val for key, val in pairs[1:]}))
    return authserv_id, results


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    pairs = []
    index = 0
    while index + 2 < len(tokens):
        key, equals, val = tokens[index], tokens[index + 1], tokens[index + 2]
        if equals == "=" and key != "=" and val != "=":
            if val.startswith('"') and val.endswith('"') and len(val) >= 2:
                val = re.sub(r"\\(.)", r"\1", val[1:-1])
            pairs.append((key.lower(), val.lower()))
            index += 3
        else:
            index += 1
    return pairs


def _without_comments(value: str) -> str:
    """Drop RFC 5322 comments (nested parentheses), keeping quoted strings whole."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in value.replace("\r", " ").replace("\n", " "):
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            out.append(char)
            if char == '"':
                quoted = False
            continue
        if char == "(":
            depth += 1
            out.append(" ")
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
            if char == '"':
                quoted = True
    return "".join(out)
