"""Hostile e-mail messages through the real message parsing: each must end in the sandbox.

Small messages that cost the standard library's e-mail parser, in the web worker, minutes
or gigabytes (measured before parsing moved to the sandbox):

- a Subject of 20,000 RFC 2047 encoded words (300 KB): 23 s and 2.7 GB;
- 50,000 empty parts (2 MB): 12 to 40 s;
- a PDF's file name in 20,000 RFC 2231 pieces (400 KB): 42 s;
- 10,000 nested multiparts (700 KB): a RecursionError;
- 1,000 DKIM-Signature headers from the forwarder: a DNS lookup (up to 5 s) for each.

Timed through robot.mail.parse_message (the last through
robot.provenance_mail.check_message_origin, with a DNS that has no keys), under the
reading limits of the settings; prints each one's outcome, time, and the reader's peak
memory as the sandbox reports it.
    .venv/bin/python bench/hostile_mail.py [--scale 1.0]
Target: a reason for a person in under 60 s each, the reader under 600 MB, and this
process not growing.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")

LIMIT_SECONDS = 60
LIMIT_MB = 600
FORWARDER = "hovedpostkasse@kommune.example"
_HEAD = (
    f"From: Hovedpostkassen <{FORWARDER}>\r\nTo: attester@kommune.example\r\n"
    "Date: Mon, 2 Mar 2026 09:15:00 +0100\r\nMIME-Version: 1.0\r\n"
).encode()


def encoded_word_subject(words: int = 20_000) -> bytes:
    """Each encoded word becomes objects of the header parser's token tree."""
    subject = b" ".join(b"=?utf-8?q?B=C3=B8rneattest?=" for _ in range(words))
    return _HEAD + b"Subject: " + subject + b"\r\nContent-Type: text/plain\r\n\r\nHej\r\n"


def many_parts(parts: int = 50_000) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(parts))
    return (
        _HEAD
        + b'Subject: Mange dele\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + body
        + b"--b--\r\n"
    )


def split_file_name(pieces: int = 20_000) -> bytes:
    """RFC 2231 continuations (name*0*, name*1*, ...) of an attachment's name, which the
    parser gathers again for every parameter it looks up."""
    name = b"; ".join(b"name*%d*=a" % index for index in range(pieces))
    return (
        _HEAD
        + b'Subject: Bilag\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\nContent-Type: application/pdf; "
        + name
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
    )


def nested_multiparts(depth: int = 10_000) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--" % level for level in reversed(range(depth)))
    return _HEAD + b"Subject: Dybt\r\n" + opening + b"Content-Type: text/plain\r\n\r\nHej" + closing


def many_dkim_signatures(signatures: int = 1_000) -> bytes:
    header = b"".join(
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=kommune.example; "
        b"s=sel%d; h=from:subject; bh=AAAA; b=AAAA\r\n" % index
        for index in range(signatures)
    )
    return header + _HEAD + b"Subject: Signeret\r\nContent-Type: text/plain\r\n\r\nHej\r\n"


def hostile_messages(scale: float = 1.0) -> list[tuple[str, str, str, bytes]]:
    """(key, description, "parse" or "origin", message) for each bomb, its size times
    `scale`."""

    def size(count: int) -> int:
        return max(1, int(count * scale))

    return [
        (
            "subject",
            f"Subject of {size(20_000):,} encoded words",
            "parse",
            encoded_word_subject(size(20_000)),
        ),
        ("parts", f"{size(50_000):,} parts", "parse", many_parts(size(50_000))),
        (
            "file_name",
            f"file name in {size(20_000):,} pieces",
            "parse",
            split_file_name(size(20_000)),
        ),
        (
            "nesting",
            f"{size(10_000):,} nested multiparts",
            "parse",
            nested_multiparts(size(10_000)),
        ),
        (
            "dkim",
            f"{size(1_000):,} DKIM signatures",
            "origin",
            many_dkim_signatures(size(1_000)),
        ),
    ]


def run_one(key: str, name: str, kind: str, message: bytes) -> dict:
    """Parse one message as the robot does (or check its origin); what happened."""
    from robot import sandbox
    from robot.mail import UnreadableMessage, parse_message
    from robot.provenance_mail import check_message_origin

    outcomes, lookups = [], []
    real = {"read_message": sandbox.read_message, "check_origin": sandbox.check_origin}

    def watched(function):
        def call(data, **options):
            outcomes.append(function(data, **options))
            return outcomes[-1]

        return call

    def no_keys(name, timeout=5):
        lookups.append(name)
        return None

    sandbox.read_message = watched(real["read_message"])
    sandbox.check_origin = watched(real["check_origin"])
    try:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        if kind == "origin":
            origin = check_message_origin(
                message, trusted_senders=[FORWARDER], trusted_authserv_ids=[], dnsfunc=no_keys
            )
            ended, reason = ("trusted" if origin.trusted else "not trusted"), origin.reason
        else:
            try:
                parsed = parse_message(message)
                ended, reason = "parsed", f"{len(parsed.attachments)} PDFs"
            except UnreadableMessage as error:
                ended, reason = "unreadable", error.reason
        seconds = time.perf_counter() - started
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    finally:
        sandbox.read_message, sandbox.check_origin = real["read_message"], real["check_origin"]
    return {
        "bomb": key,
        "name": name,
        "kb": len(message) // 1024,
        "ended": ended,
        "reason": reason,
        "sandbox": "/".join(outcome.status for outcome in outcomes),
        "seconds": seconds,
        "reader_mb": max((outcome.maxrss_kb for outcome in outcomes), default=0) / 1024,
        "reader_cpu_seconds": sum(outcome.cpu_seconds for outcome in outcomes),
        "lookups": len(lookups),
        "self_grown_mb": grown / 1024,
    }


def run(scale: float = 1.0) -> list[dict]:
    return [run_one(*bomb) for bomb in hostile_messages(scale)]


def passed(figures: dict) -> bool:
    # A bomb may also be parsed within the limits (it then holds nothing a person would
    # not see); what counts is that it ends in time, within the reader, with no key lookup
    # for each of its signatures.
    return (
        figures["ended"] != "trusted"
        and figures["seconds"] < LIMIT_SECONDS
        and figures["reader_mb"] < LIMIT_MB
        and figures["lookups"] <= 5
    )


def report(all_figures: list[dict]) -> bool:
    from django.conf import settings

    print(f"limits: {settings.PDF_READ_CPU_SECONDS:g} s CPU, {settings.PDF_READ_MEMORY_MB} MB")
    for figures in all_figures:
        print(
            f"{figures['name']} ({figures['kb']:,} KB): {figures['ended']} "
            f"({figures['sandbox']}): {figures['reason']}\n"
            f"    {figures['seconds']:.1f} s (reader {figures['reader_cpu_seconds']:.1f} s CPU), "
            f"reader peak {figures['reader_mb']:.0f} MB, {figures['lookups']} DNS lookups, "
            f"this process grew {figures['self_grown_mb']:.0f} MB: "
            + ("OK" if passed(figures) else "FAILED")
        )
    ok = all(passed(figures) for figures in all_figures)
    print(
        f"target: a reason in < {LIMIT_SECONDS} s, reader < {LIMIT_MB} MB: "
        + ("OK" if ok else "FAILED")
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    arguments = parser.parse_args(argv)
    django.setup()
    return 0 if report(run(arguments.scale)) else 1


def smoke() -> list[dict]:
    """Small bombs, for the tests: the same paths, in seconds."""
    return run(scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
