"""Received e-mail is parsed in the sandbox: an ordinary forwarded message reads as it
always did, and a hostile one ends with a reason for a person, without this process
growing."""

import email
import resource
from email import policy

import pytest
from django.utils.translation import gettext

from bench.hostile_mail import (
    FORWARDER,
    encoded_word_subject,
    many_dkim_signatures,
    many_parts,
    nested_multiparts,
)
from robot import message_parse
from robot.intake import ingest_bytes
from robot.mail import UnreadableMessage, parse_message
from robot.models import Document
from robot.pipeline import process_document
from robot.provenance_mail import check_message_origin

from .conftest import sample
from .pki import dkim_sign, dkim_txt, fake_dns

# The test process may grow by what it builds and keeps, never by what a bomb costs.
GROWTH_KB = 30 * 1024


def grown_kb(before: int) -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before


def attached(message: bytes, pdfs: int, *, text: str = "Hej") -> bytes:
    """A message with `pdfs` copies of the sample certificate attached."""
    built = email.message.EmailMessage()
    built["From"] = FORWARDER
    built["Subject"] = "Bilag"
    built.set_content(text)
    for index in range(pdfs):
        built.add_attachment(
            message, maintype="application", subtype="pdf", filename=f"attest-{index}.pdf"
        )
    return built.as_bytes()


def test_an_ordinary_forwarded_message_reads_as_the_standard_library_reads_it():
    raw = sample("boerneattest_ren.eml")
    expected = email.message_from_bytes(raw, policy=policy.default)
    (pdf,) = [part for part in expected.walk() if part.get_content_type() == "application/pdf"]

    message = parse_message(raw)

    assert message.attachments == [(pdf.get_filename(), pdf.get_content())]
    assert message.other_attachments == []
    notice = message.notice
    assert (notice.cpr, notice.sender, notice.kind_hint) == ("0101904321", "Rigspolitiet", "child")
    assert notice.att.startswith("NY_MEDARBEJDER")


def test_several_attachments_come_back_each_whole_and_in_order():
    pdfs = [sample("boerneattest_ren.pdf"), sample("afslag_boerneattest.pdf")]
    built = email.message.EmailMessage()
    built["From"], built["Subject"] = FORWARDER, "To bilag"
    built.set_content("Afsender: Rigspolitiet\n")
    built.add_attachment(b"not a pdf", maintype="text", subtype="csv", filename="liste.csv")
    for index, pdf in enumerate(pdfs):
        built.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{index}.pdf")

    message = parse_message(built.as_bytes())

    assert message.attachments == [("0.pdf", pdfs[0]), ("1.pdf", pdfs[1])]
    assert message.other_attachments == ["liste.csv"]
    assert message.notice.sender == "Rigspolitiet"


@pytest.mark.parametrize(
    ("message", "reason", "args"),
    [
        (
            nested_multiparts(10_000),
            "The message's parts are nested more than %(limit)d deep.",
            {"limit": message_parse.MAX_DEPTH},
        ),
        (
            many_parts(1_000),
            "The message has more than %(limit)d parts.",
            {"limit": message_parse.MAX_PARTS},
        ),
        (
            attached(b"%PDF-1.7\n", message_parse.MAX_PDFS + 1),
            "The message has more than %(limit)d PDF attachments.",
            {"limit": message_parse.MAX_PDFS},
        ),
        (
            attached(b"%PDF-1.7\n", 1, text="Afsender: Rigspolitiet\n" * 10_000),
            "The message's text is longer than %(limit)d characters.",
            {"limit": message_parse.MAX_TEXT_CHARS},
        ),
    ],
    ids=["10,000 nested multiparts", "1,000 parts", "21 PDFs", "230,000 characters"],
)
def test_a_message_past_a_bound_is_unreadable_with_the_bound_in_danish(message, reason, args):
    with pytest.raises(UnreadableMessage) as raised:
        parse_message(message)

    assert raised.value.reason == gettext(reason) % args


def test_attachments_larger_than_one_answer_holds_are_unreadable():
    message = attached(b"%PDF-1.7\n" + b"0" * (7 * 1024 * 1024), 2)

    with pytest.raises(UnreadableMessage) as raised:
        parse_message(message)

    assert raised.value.reason == gettext(
        "The message's PDF attachments together are larger than %(limit)d MB."
    ) % {"limit": 12}


def test_a_subject_bomb_ends_at_the_memory_limit_and_the_next_message_reads(settings):
    # 20,000 encoded words took the parser 2.7 GB in the web worker (bench/hostile_mail.py).
    settings.PDF_READ_MEMORY_MB = 200
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(UnreadableMessage) as raised:
        parse_message(encoded_word_subject(20_000))

    assert raised.value.reason == gettext(
        "The message needed too much memory to read (over %(mb)s MB)."
    ) % {"mb": 200}
    assert grown_kb(before) < GROWTH_KB
    # The reader that ran out is replaced: the next message is read as before.
    assert parse_message(sample("boerneattest_ren.eml")).notice.cpr == "0101904321"


def test_fifty_thousand_parts_end_at_the_time_limit(settings):
    settings.PDF_READ_CPU_SECONDS = 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(UnreadableMessage) as raised:
        parse_message(many_parts(50_000))

    # The CPU limit, or on a crowded machine the wall-clock limit a little above it.
    assert raised.value.reason in {
        gettext("The message took too long to read (over %(seconds)s s of CPU).")
        % {"seconds": "1"},
        gettext("The message took too long to read (over %(seconds)s s).") % {"seconds": "6"},
    }
    assert grown_kb(before) < GROWTH_KB


def test_an_uploaded_bomb_is_unreadable_for_a_person_and_the_robot_goes_on(rules, settings):
    settings.PDF_READ_MEMORY_MB = 200
    document, _created = ingest_bytes(
        encoded_word_subject(20_000),
        filename="bombe.eml",
        source=Document.Source.MAILBOX,
        process=False,
    )

    process_document(document_id=document.pk)

    document.refresh_from_db()
    assert document.state == Document.State.UNREADABLE
    assert document.reason == gettext("The file could not be read: %(error)s") % {
        "error": gettext("The message needed too much memory to read (over %(mb)s MB).")
        % {"mb": 200}
    }


# --- Who forwarded it ----------------------------------------------------------------------


def test_a_dkim_signature_is_verified_in_the_reader_with_keys_looked_up_here():
    lookups = []
    dns = fake_dns({"sel1._domainkey.kommune.example": dkim_txt()})

    def counted(name, timeout=5):
        lookups.append(name)
        return dns(name, timeout)

    origin = check_message_origin(
        dkim_sign(sample("boerneattest_ren.eml"), domain="kommune.example"),
        trusted_senders=["@kommune.example"],
        trusted_authserv_ids=[],
        dnsfunc=counted,
    )

    assert (origin.trusted, origin.method) == (True, "dkim")
    assert lookups == [b"sel1._domainkey.kommune.example."]


def test_a_thousand_dkim_signatures_cost_five_key_lookups_not_a_thousand():
    lookups = []

    def no_keys(name, timeout=5):
        lookups.append(name)
        return None

    origin = check_message_origin(
        many_dkim_signatures(1_000),
        trusted_senders=[FORWARDER],
        trusted_authserv_ids=[],
        dnsfunc=no_keys,
    )

    assert origin.trusted is False and origin.sender == FORWARDER
    assert origin.reason == gettext(
        "The DKIM key could not be looked up, so the signature could not be checked."
    )
    assert len(lookups) == message_parse.MAX_SIGNATURES


def test_the_origin_of_a_fifty_thousand_part_message_is_judged_by_its_headers(settings):
    # Parsing those parts takes seconds (see above); From and Authentication-Results do not
    # need them, so the origin check answers in full within a second of CPU.
    settings.PDF_READ_CPU_SECONDS = 1

    origin = check_message_origin(
        many_parts(50_000), trusted_senders=[FORWARDER], trusted_authserv_ids=[]
    )

    assert (origin.trusted, origin.sender) == (False, FORWARDER)
    assert origin.reason == gettext(
        "The message has no DKIM signature, and no trusted "
        "Authentication-Results header says the message passed."
    )
