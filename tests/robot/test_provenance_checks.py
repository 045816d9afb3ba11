"""Where a returned document came from: the forwarding message's DKIM signature or our
mail server's verdict, and the PDF's digital signature. No database: pure functions."""

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from robot.provenance_mail import check_message_origin
from robot.provenance_pdf import check_pdf_signature

from .conftest import blank_pdf, encrypted_pdf, sample
from .pki import dkim_sign, dkim_txt, fake_dns, new_key, sign_pdf, the_pki

FORWARDER = "hovedpostkasse@kommune.dk"
SERVER = "mx.kommune.dk"
DNS = fake_dns(
    {"sel1._domainkey.kommune.dk": dkim_txt(), "sel1._domainkey.udenfor.example": dkim_txt()}
)


def forwarded(
    sender: str = FORWARDER,
    *,
    headers: str = "",
    notice: str = "Afsender: Rigspolitiet\r\nAtt: NY_MEDARBEJDER\r\n",
) -> bytes:
    """A Digital Post notice forwarded as the municipality's mail system does it."""
    return (
        f"{headers}From: Hovedpostkassen <{sender}>\r\n"
        "To: attester@kommune.dk\r\n"
        "Subject: VS: Digitalpost (29189420): Boerneatt.\r\n"
        "Date: Mon, 2 Mar 2026 09:15:00 +0100\r\n"
        "Message-ID: <forward-1@kommune.dk>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "\r\n"
        "Der er modtaget flg. Digital Post besked.\r\n"
        f"{notice}"
        "Persondata - CPR-nummer: 010190-4321\r\n"
    ).encode()


def origin(raw: bytes, *, senders=(FORWARDER,), servers=(SERVER,), dns=DNS):
    return check_message_origin(
        raw, trusted_senders=list(senders), trusted_authserv_ids=list(servers), dnsfunc=dns
    )


def assert_untrusted(result) -> None:
    assert result.trusted is False
    assert result.method == ""
    assert isinstance(result.reason, str) and result.reason.strip()


# --- DKIM ------------------------------------------------------------------------------


def test_dkim_signed_message_from_trusted_forwarder_is_trusted():
    result = origin(dkim_sign(forwarded(), domain="kommune.dk"))

    assert result.trusted is True
    assert result.method == "dkim"
    assert result.sender == FORWARDER
    assert result.reason


def test_one_changed_body_byte_breaks_the_dkim_signature():
    raw = dkim_sign(forwarded(), domain="kommune.dk").replace(b"010190-4321", b"010190-4322")

    result = origin(raw)

    assert_untrusted(result)
    assert "DKIM" in result.reason


def test_signature_of_another_domain_does_not_vouch_for_the_forwarder():
    result = origin(dkim_sign(forwarded(), domain="udenfor.example"))

    assert_untrusted(result)
    assert "udenfor.example" in result.reason


def test_parent_domain_signature_is_aligned_with_a_subdomain_sender():
    sender = "post@digital.kommune.dk"

    result = origin(dkim_sign(forwarded(sender), domain="kommune.dk"), senders=[sender])

    assert result.trusted is True
    assert result.method == "dkim"


def test_sender_not_configured_is_untrusted_even_with_a_valid_signature():
    raw = dkim_sign(forwarded("nogen@udenfor.example"), domain="udenfor.example")

    result = origin(raw)

    assert_untrusted(result)
    assert result.sender == "nogen@udenfor.example"
    assert "nogen@udenfor.example" in result.reason


def test_domain_entry_trusts_its_addresses_but_not_its_subdomains():
    signed = dkim_sign(forwarded("hvemsomhelst@kommune.dk"), domain="kommune.dk")
    sub = dkim_sign(forwarded("x@sub.kommune.dk"), domain="kommune.dk")

    assert origin(signed, senders=["@Kommune.DK"]).trusted is True
    assert_untrusted(origin(sub, senders=["@kommune.dk"]))


def test_signature_limited_to_part_of_the_body_is_refused():
    # With l= anyone may append a part (say another PDF) below the signed body.
    raw = dkim_sign(forwarded(), domain="kommune.dk", length=True)

    assert_untrusted(origin(raw))


def test_unpublished_dkim_key_says_the_key_could_not_be_looked_up():
    result = origin(dkim_sign(forwarded(), domain="kommune.dk"), dns=fake_dns({}))

    assert_untrusted(result)
    assert "key" in result.reason.lower() or "nøgle" in result.reason.lower()


def test_key_of_another_party_does_not_verify():
    other = fake_dns({"sel1._domainkey.kommune.dk": dkim_txt(new_key())})

    assert_untrusted(origin(dkim_sign(forwarded(), domain="kommune.dk"), dns=other))


# --- Authentication-Results -------------------------------------------------------------


def test_trusted_servers_dkim_pass_makes_an_unsigned_message_trusted():
    raw = forwarded(headers=f"Authentication-Results: {SERVER}; dkim=pass header.d=kommune.dk\r\n")

    result = origin(raw)

    assert result.trusted is True
    assert result.method == "authentication-results"
    assert result.sender == FORWARDER


def test_trusted_servers_dmarc_pass_for_the_from_domain_counts():
    raw = forwarded(
        headers=(
            f"Authentication-Results: {SERVER} 1; spf=pass smtp.mailfrom=kommune.dk;\r\n"
            " dkim=pass (2048-bit key; unprotected) header.d=kommune.dk header.s=sel1;\r\n"
            ' dmarc=pass (p=reject dis=none) header.from="kommune.dk"\r\n'
        )
    )

    assert origin(raw).method == "authentication-results"


@pytest.mark.parametrize(
    "verdict",
    [
        "dkim=pass header.d=udenfor.example",
        "dkim=pass",
        "dkim=fail header.d=kommune.dk",
        "dmarc=pass header.from=udenfor.example",
        "spf=pass smtp.mailfrom=kommune.dk",
        "none",
    ],
)
def test_verdicts_that_do_not_vouch_for_the_from_domain_are_refused(verdict):
    raw = forwarded(headers=f"Authentication-Results: {SERVER}; {verdict}\r\n")

    assert_untrusted(origin(raw))


def test_authentication_results_from_an_untrusted_server_is_ignored():
    raw = forwarded(
        headers="Authentication-Results: mx.udenfor.example; dkim=pass header.d=kommune.dk\r\n"
    )

    result = origin(raw)

    assert_untrusted(result)
    assert "Authentication-Results" in result.reason


def test_a_forged_pass_below_our_servers_own_verdict_is_ignored():
    # Our server prepends its verdict; a "pass" with its name further down came with
    # the message from outside.
    raw = forwarded(
        headers=(
            f"Authentication-Results: {SERVER}; dkim=none; dmarc=fail header.from=kommune.dk\r\n"
            "Received: from mail.udenfor.example by mx.kommune.dk; 2 Mar 2026 09:15 +0100\r\n"
            f"Authentication-Results: {SERVER}; dkim=pass header.d=kommune.dk\r\n"
        )
    )

    assert_untrusted(origin(raw))


def test_authserv_id_hidden_in_a_comment_does_not_count():
    raw = forwarded(
        headers="Authentication-Results: (mx.kommune.dk) evil.example; "
        "dkim=pass header.d=kommune.dk\r\n"
    )

    assert_untrusted(origin(raw))


# --- What proves nothing -----------------------------------------------------------------


def test_afsender_rigspolitiet_in_the_body_of_an_outside_message_proves_nothing():
    raw = forwarded("rigspolitiet@udenfor.example")

    result = origin(raw, senders=[FORWARDER, "@politi.dk"])

    assert_untrusted(result)


def test_a_typed_from_header_of_the_forwarder_alone_proves_nothing():
    result = origin(forwarded())

    assert_untrusted(result)
    assert result.sender == FORWARDER


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x89PNG\r\n\x1a\n",
        bytes(range(256)) * 20,
        b"Subject: no sender\r\n\r\nbody\r\n",
        b"From: a@kommune.dk, b@kommune.dk\r\n\r\nbody\r\n",
        b"From: hovedpostkasse@kommune.dk\r\nFrom: nogen@udenfor.example\r\n\r\nbody\r\n",
        b"From: <hovedpostkasse@kommune.dk@udenfor.example>\r\n\r\nbody\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=kommune.dk; s=sel1; b=%%%\r\n"
        b"From: hovedpostkasse@kommune.dk\r\n\r\nbody\r\n",
        b'Authentication-Results: mx.kommune.dk; dkim=pass header.d="kommune.dk\r\n'
        b"From: x@udenfor.example\r\n\r\n",
    ],
)
def test_malformed_messages_are_untrusted_without_an_exception(raw):
    assert_untrusted(origin(raw))


def test_a_second_from_address_cannot_ride_on_the_forwarders_signature():
    raw = dkim_sign(forwarded(), domain="kommune.dk").replace(
        b"From: Hovedpostkassen", b"From: nogen@udenfor.example\r\nFrom: Hovedpostkassen", 1
    )

    assert_untrusted(origin(raw))


# --- PDF signatures -----------------------------------------------------------------------

PKI = the_pki()


@pytest.fixture(scope="module")
def signed_pdf() -> bytes:
    return sign_pdf(sample("boerneattest_ren.pdf"), PKI.signer, PKI.root)


def judge(data: bytes, *, anchors=None, required=True):
    return check_pdf_signature(
        data, trust_anchor_pems=[PKI.root.pem] if anchors is None else anchors, required=required
    )


def assert_refused(result, status: str) -> None:
    assert result.status == status
    assert result.acceptable is False
    assert isinstance(result.reason, str) and result.reason.strip()


def test_pdf_signed_by_the_trusted_ca_is_valid(signed_pdf):
    result = judge(signed_pdf)

    assert result.status == "valid"
    assert result.acceptable is True
    assert result.signer == "Rigspolitiet Testsignatur"
    assert result.reason


def test_same_pdf_with_only_a_stranger_as_anchor_is_untrusted(signed_pdf):
    result = judge(signed_pdf, anchors=[PKI.stranger.pem])

    assert_refused(result, "untrusted")
    assert result.signer == "Rigspolitiet Testsignatur"


def test_no_anchors_configured_trusts_nobody(signed_pdf):
    assert_refused(judge(signed_pdf, anchors=[]), "untrusted")


def test_pdf_signed_by_a_strangers_certificate_is_untrusted():
    data = sign_pdf(sample("boerneattest_ren.pdf"), PKI.stranger_signer, PKI.stranger)

    assert_refused(judge(data), "untrusted")


def test_flipped_byte_inside_the_signed_range_breaks_the_signature(signed_pdf):
    # The binary comment on the second line is signed but means nothing to a reader,
    # so the file still parses and only the digest tells.
    position = signed_pdf.index(b"\n", 0) + 2
    tampered = bytearray(signed_pdf)
    tampered[position] ^= 0x01

    assert_refused(judge(bytes(tampered)), "invalid")


def test_page_changed_in_a_later_incremental_update_is_invalid(signed_pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    stream = writer.add_object(
        generic.StreamObject(
            stream_data=b"BT /F1 24 Tf 72 720 Td (er ikke registreret med afgoerelser) Tj ET"
        )
    )
    writer.add_stream_to_page(0, stream)
    out = io.BytesIO()
    writer.write(out)

    assert_refused(judge(out.getvalue()), "invalid")


def form_pdf(value: str) -> bytes:
    """A one-page PDF whose text field shows `value`."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    field = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Tx"),
                NameObject("/T"): TextStringObject("Resultat"),
                NameObject("/V"): TextStringObject(value),
                NameObject("/F"): NumberObject(4),
                NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (72, 700, 400, 720)]),
            }
        )
    )
    page[NameObject("/Annots")] = ArrayObject([field])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([field])}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_form_field_filled_in_after_the_last_signature_is_invalid():
    # pyHanko calls this "form filling" and lets it pass, but the clerk would read the
    # new value, and no trusted signer signed it.
    writer = IncrementalPdfFileWriter(
        io.BytesIO(sign_pdf(form_pdf("Registreret"), PKI.signer, PKI.root))
    )
    fields = writer.root["/AcroForm"]["/Fields"]
    fields[0]["/V"] = generic.TextStringObject("Ingen registreringer")
    writer.mark_update(fields.raw_get(0))
    out = io.BytesIO()
    writer.write(out)

    assert_refused(judge(out.getvalue()), "invalid")


def test_second_trusted_signature_keeps_the_first_valid(signed_pdf):
    twice = sign_pdf(signed_pdf, PKI.signer, PKI.root, field_name="Signatur2")

    assert judge(twice).status == "valid"


def test_a_strangers_signature_on_top_of_a_trusted_one_is_untrusted(signed_pdf):
    twice = sign_pdf(signed_pdf, PKI.stranger_signer, PKI.stranger, field_name="Signatur2")

    result = judge(twice)

    assert_refused(result, "untrusted")
    assert result.signer == "Falsk Rigspolitiet"


@pytest.mark.parametrize("required, acceptable", [(False, True), (True, False)])
def test_unsigned_pdf_is_acceptable_only_when_no_signature_is_required(required, acceptable):
    result = judge(sample("boerneattest_ren.pdf"), required=required)

    assert result.status == "unsigned"
    assert result.acceptable is acceptable
    assert result.reason.strip()


def test_blank_unsigned_pdf_is_unsigned():
    assert judge(blank_pdf(), required=False).status == "unsigned"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a pdf at all",
        b"%PDF-1.7\n garbage \x00\xff",
        bytes(range(256)) * 10,
    ],
)
def test_garbage_is_an_error_without_an_exception(data):
    assert_refused(judge(data, required=False), "error")


def test_truncated_signed_pdf_is_not_valid(signed_pdf):
    result = judge(signed_pdf[: len(signed_pdf) // 2], required=False)

    assert result.status in ("error", "invalid")
    assert result.acceptable is False
    assert result.reason.strip()


def test_encrypted_pdf_that_cannot_be_opened_is_an_error():
    assert_refused(judge(encrypted_pdf(), required=False), "error")
