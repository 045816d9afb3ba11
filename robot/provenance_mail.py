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

The message is parsed and its signatures verified in the sandbox's reader
(robot/message_parse.py), under the limits of reading a PDF; the DNS lookups of the DKIM
keys happen here, between two rounds in the reader: it names the keys it needs, and is
then given their records.

check_message_origin never raises: anything it cannot read is simply not trusted.
"""

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from dkim import dnsplug

from . import sandbox
from .extraction import read_limits
from .mail import limit_problem

DKIM, AUTHENTICATION_RESULTS = "dkim", "authentication-results"
DNS_TIMEOUT_SECONDS = 5

logger = logging.getLogger(__name__)

DnsFunc = Callable[..., bytes | None]


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
    if not isinstance(raw, bytes) or not raw.strip():
        return MailOrigin(False, "", _("The message could not be read."), "")
    try:
        return _check(raw, list(trusted_senders), list(trusted_authserv_ids), dnsfunc)
    except Exception:  # hostile input must end as "not trusted", never a crash
        logger.exception("The origin of a message could not be checked")
        return MailOrigin(False, "", _("The message could not be read."), "")


def _check(raw, trusted_senders, trusted_authserv_ids, dnsfunc) -> MailOrigin:
    limits = read_limits()
    options = {
        "trusted_senders": trusted_senders,
        "trusted_authserv_ids": trusted_authserv_ids,
        **limits,
    }
    outcome = sandbox.check_origin(raw, records=None, **options)
    if outcome.status == sandbox.DONE and "wanted" in outcome.answer:
        records = _look_up(outcome.answer["wanted"], dnsfunc or dnsplug.get_txt)
        outcome = sandbox.check_origin(raw, records=records, **options)
    if outcome.status != sandbox.DONE or "wanted" in outcome.answer:
        logger.warning(
            "Message origin not checked: %s %s (%.1f s CPU, %d MB)",
            outcome.status,
            outcome.detail,
            outcome.cpu_seconds,
            outcome.maxrss_kb // 1024,
        )
        return MailOrigin(False, "", limit_problem(outcome, limits), "")
    answer = outcome.answer
    return MailOrigin(answer["trusted"], answer["method"], _reason(answer), answer["sender"])


def _look_up(names: list[str], lookup: DnsFunc) -> dict[str, str | None]:
    """The DKIM key records the reader asked for, as it wants them: base64, or None for a
    name without one or whose lookup failed. Names are dkimpy's (bytes, as latin-1 text)."""
    records = {}
    for name in names:
        try:
            record = lookup(name.encode("latin-1"), timeout=DNS_TIMEOUT_SECONDS)
        except Exception:
            record = None
        if isinstance(record, str):
            record = record.encode()
        records[name] = base64.b64encode(record).decode() if record else None
    return records


def _reason(answer: dict) -> str:
    code, args = answer["code"], answer["args"]
    if code == "dkim":
        return _("The DKIM signature of %(domain)s verifies.") % args
    if code == "authentication_results":
        return _("The receiving mail server %(server)s says the message passed.") % args
    if code == "no_single_sender":
        return _("The message does not have exactly one sender address.")
    if code == "untrusted_sender":
        return _("The forwarding sender %(sender)s is not a configured forwarder.") % {
            "sender": answer["sender"]
        }
    if code == "foreign_dkim":
        return (
            _(
                "The DKIM signature belongs to %(domain)s, not to the sender's domain "
                "%(sender_domain)s."
            )
            % args
        )
    if code == "lookup_failed":
        return _("The DKIM key could not be looked up, so the signature could not be checked.")
    if code == "dkim_broken":
        return _("The DKIM signature does not verify.")
    if code == "unsigned":
        return _(
            "The message has no DKIM signature, and no trusted "
            "Authentication-Results header says the message passed."
        )
    return _("The message could not be read.")
