"""Reading an untrusted e-mail message: its text and attachments, and who forwarded it.

Runs in the sandbox's reader (robot/sandbox.py, operations "message" and "origin"), not in
a web or worker process: the standard library's parser is no match for a hostile message.
Measured on a laptop-class CPU, a Subject of 20,000 encoded words (300 KB) took it 23 s and
2.7 GB; 50,000 empty parts (2 MB) 12 to 40 s; a file name in 20,000 RFC 2231 pieces
(400 KB) 42 s; 1,000 nested multiparts a RecursionError. The reader's CPU and memory
limits end those; the bounds below end what would get through them and still be no
forwarded Digital Post (a notice is a few hundred characters and one or two PDFs).

No Django and no project imports: the helper loads this file by its path. Answers are
codes, which robot/mail.py and robot/provenance_mail.py turn into reasons in Danish.
"""

import base64
import email
import re
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses

# Past these a message is no forwarded notice; a person looks at it instead.
MAX_PARTS = 200
MAX_DEPTH = 20
MAX_TEXT_CHARS = 100_000  # of the plain-text parts together
MAX_PDFS = 20
# All PDFs travel back to the caller in one answer (sandbox.MAX_ANSWER_BYTES, 16 MB),
# next to the text as JSON, at most 12 bytes a character when escaped.
MAX_PDF_BYTES = 12 * 1024 * 1024
MAX_NAME_CHARS = 255
MAX_SUBJECT_CHARS = 1_000
# A forwarded message carries the forwarder's signature and perhaps one or two of the
# servers it passed; each further one would cost a DNS lookup.
MAX_SIGNATURES = 5

DKIM, AUTHENTICATION_RESULTS = "dkim", "authentication-results"
DNS_TIMEOUT_SECONDS = 5


# --- The parts of a message --------------------------------------------------------------


def parse(data: bytes) -> tuple[dict, bytes]:
    """Subject, plain text and attachments of a message; the PDFs' bytes follow the answer,
    one after the other, in the order of answer["pdfs"] ([name, size] each). Or a problem
    code ("depth", "parts", "text", "pdfs", "pdf_bytes", "error") and nothing else."""
    try:
        message = email.message_from_bytes(data, policy=policy.default)
        parts = _leaves(message)
        return _contents(message, parts)
    except _TooMuch as breach:
        return _problem(breach.code, limit=breach.limit), b""
    except RecursionError:  # nesting the parser's own recursion could not follow
        return _problem("depth", limit=MAX_DEPTH), b""


class _TooMuch(Exception):
    def __init__(self, code: str, limit: int) -> None:
        super().__init__(code)
        self.code, self.limit = code, limit


def _problem(code: str, **args) -> dict:
    return {"problem": code, "args": args, "subject": "", "text": "", "pdfs": [], "others": []}


def _leaves(message) -> list:
    """The parts that are not multiparts, in the order Message.walk() gives them; counted
    and depth-checked without recursion."""
    leaves, stack, count = [], [(message, 0)], 0
    while stack:
        part, depth = stack.pop()
        count += 1
        if count > MAX_PARTS:
            raise _TooMuch("parts", MAX_PARTS)
        if depth > MAX_DEPTH:
            raise _TooMuch("depth", MAX_DEPTH)
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in reversed(part.get_payload()))
        else:
            leaves.append(part)
    return leaves


def _contents(message, parts: list) -> tuple[dict, bytes]:
    texts, text_chars, pdfs, pdf_bytes, others = [], 0, [], 0, []
    for part in parts:
        filename = part.get_filename() or ""
        content_type = part.get_content_type()
        if content_type == "application/pdf" or filename.lower().endswith(".pdf"):
            if len(pdfs) == MAX_PDFS:
                raise _TooMuch("pdfs", MAX_PDFS)
            content = part.get_payload(decode=True) or b""
            pdf_bytes += len(content)
            if pdf_bytes > MAX_PDF_BYTES:
                raise _TooMuch("pdf_bytes", MAX_PDF_BYTES // (1024 * 1024))
            pdfs.append(((filename or "attachment.pdf")[:MAX_NAME_CHARS], content))
        elif content_type == "text/plain" and not filename:
            try:
                text = part.get_content()
            except (LookupError, UnicodeError):  # an unknown or lying charset
                text = (part.get_payload(decode=True) or b"").decode("latin-1")
            text_chars += len(text)
            if text_chars > MAX_TEXT_CHARS:
                raise _TooMuch("text", MAX_TEXT_CHARS)
            texts.append(text)
        elif filename:
            others.append(filename[:MAX_NAME_CHARS])
    answer = {
        "problem": "",
        "args": {},
        "subject": str(message.get("Subject", ""))[:MAX_SUBJECT_CHARS],
        "text": "\n".join(texts),
        "pdfs": [[name, len(content)] for name, content in pdfs],
        "others": others,
    }
    return answer, b"".join(content for _name, content in pdfs)


# --- Who forwarded it (see robot/provenance_mail.py for the rules) -----------------------


def check_origin(
    raw: bytes,
    *,
    trusted_senders: list[str],
    trusted_authserv_ids: list[str],
    records: dict[str, str | None] | None,
) -> dict:
    """The verdict on a message's origin as a code and its arguments.

    The reader looks nothing up itself: DNS answers come from the caller, whose lookups
    tests replace. With `records` None, a message whose DKIM signatures need keys answers
    {"wanted": [names]} (latin-1 text of dkimpy's names) and nothing else; the caller
    looks them up and asks again with `records` ({name: base64 TXT or None})."""
    try:
        return _check(raw, trusted_senders, trusted_authserv_ids, records)
    except MemoryError:
        raise
    except Exception:  # hostile input must end as "not trusted", never a crash
        return _verdict("unreadable")


def _verdict(code: str, *, method: str = "", sender: str = "", **args) -> dict:
    return {"trusted": bool(method), "method": method, "code": code, "args": args, "sender": sender}


def _check(raw, trusted_senders, trusted_authserv_ids, records) -> dict:
    if not isinstance(raw, bytes) or not raw.strip():
        return _verdict("unreadable")
    # Headers only: From and Authentication-Results are all this needs of the parser, and
    # dkimpy reads the body by itself, so no part of a hostile body is parsed here.
    message = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    sender = _single_sender(message)
    if not sender:
        return _verdict("no_single_sender")
    domain = sender.rpartition("@")[2]
    if not _is_trusted_sender(sender, trusted_senders):
        return _verdict("untrusted_sender", sender=sender)

    dkim_outcome = _check_dkim(raw, domain, records)
    if dkim_outcome.wanted:
        return {"wanted": dkim_outcome.wanted}
    if dkim_outcome.aligned_domain:
        return _verdict("dkim", method=DKIM, sender=sender, domain=dkim_outcome.aligned_domain)

    server = _passing_authentication_results(message, domain, trusted_authserv_ids)
    if server:
        return _verdict(
            "authentication_results", method=AUTHENTICATION_RESULTS, sender=sender, server=server
        )

    if dkim_outcome.foreign_domain:
        return _verdict(
            "foreign_dkim",
            sender=sender,
            domain=dkim_outcome.foreign_domain,
            sender_domain=domain,
        )
    if dkim_outcome.lookup_failed:
        return _verdict("lookup_failed", sender=sender)
    if dkim_outcome.signed:
        return _verdict("dkim_broken", sender=sender)
    return _verdict("unsigned", sender=sender)


_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


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


class _DkimOutcome:
    def __init__(self) -> None:
        self.signed = False
        self.aligned_domain = ""  # a verifying signature aligned with From
        self.foreign_domain = ""  # a verifying signature of another domain
        self.lookup_failed = False
        self.wanted: list[str] = []  # key names to look up first (records not given)


def _check_dkim(raw: bytes, from_domain: str, records: dict | None) -> _DkimOutcome:
    import logging

    import dkim

    outcome = _DkimOutcome()
    logger = logging.getLogger("dkim")  # why a signature failed; nobody reads it here

    def lookup(name, timeout=DNS_TIMEOUT_SECONDS):
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if records is None:
            outcome.wanted.append(key)
            return None
        record = records.get(key)
        if not record:
            outcome.lookup_failed = True
            return None
        return base64.b64decode(record)

    try:
        verifier = dkim.DKIM(raw, timeout=DNS_TIMEOUT_SECONDS, logger=logger)
    except Exception:  # unreadable for DKIM: Authentication-Results may still tell
        return outcome
    count = sum(1 for name, _value in verifier.headers if name.lower() == b"dkim-signature")
    outcome.signed = count > 0
    for index in range(min(count, MAX_SIGNATURES)):
        try:
            verifier = dkim.DKIM(raw, timeout=DNS_TIMEOUT_SECONDS, logger=logger)
            if not verifier.verify(idx=index, dnsfunc=lookup):
                continue
            fields = verifier.signature_fields
        except MemoryError:
            raise
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
