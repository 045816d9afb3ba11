import email
import email.policy
import io
import json
import zlib

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from orders import batching
from orders.catalogue import ensure_standard_catalogue
from orders.models import CertificateKind, LegalBasis, OrderLine
from portal.cpr import find_cprs, hash_cpr
from robot.models import ModeSwitch, Phrase, RuleSet
from robot.rules import ensure_standard_rules, rules_from
from robot.synthetic import with_requester

from ..conftest import SAMPLES
from ..factories import order_for
from .fake_sbsys import fake_sbsys  # noqa: F401  (a fixture for every robot test)

MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())


@pytest.fixture
def rules(db):
    ensure_standard_catalogue(CertificateKind, LegalBasis)
    ensure_standard_rules(RuleSet, Phrase, CertificateKind)
    return rules_from(RuleSet.objects.get(is_active=True))


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample("boerneattest_ren.pdf"))))
    writer.encrypt(user_password="hemmelig", owner_password="ejer")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def decompression_bomb() -> bytes:
    """A small PDF whose page content inflates to 400 MB."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    compressor = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(chunk) for _ in range(400)) + compressor.flush()
    stream = StreamObject()
    stream._data = data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def as_from_the_police(data: bytes) -> bytes:
    """A sample certificate as the police would return it for our order: with the
    Rekvirent reference of the batch its person's line was ordered in (as payroll pasted
    it at politi.dk). Unchanged when no such line exists or the file is not a PDF."""
    if not data.startswith(b"%PDF-"):
        return data
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    hashes = [hash_cpr(cpr) for cpr in find_cprs(text)]
    lowered = text.casefold()
    kind = (
        "criminal_public"
        if "offentlig straffeattest" in lowered
        else "criminal_private"
        if "privat straffeattest" in lowered
        else "child"
        if "børneattest" in lowered
        else None
    )
    line = (
        OrderLine.objects.filter(person__cpr_hash__in=hashes, batch__isnull=False, kind__code=kind)
        .exclude(batch__secret="")
        .select_related("batch")
        .order_by("-pk")
        .first()
    )
    if line is None:
        return data
    return with_requester(data, batching.requester_text(line.batch))


FORWARDER = "hovedpostkasse@kommune.example"
RECEIVING_SERVER = "mx.kommune.example"


def as_forwarded(message: bytes, *, pdf=None, authenticated: bool = True) -> bytes:
    """A forwarded Digital Post message as the municipality's own mail server delivers it:
    its attachment as the police return it for our order, and the server's verdict that
    the forwarder's DKIM signature passed."""
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    for part in parsed.walk():
        if part.get_content_type() == "application/pdf":
            data = pdf if pdf is not None else as_from_the_police(part.get_content())
            part.set_content(
                data, maintype="application", subtype="pdf", filename=part.get_filename()
            )
    if authenticated:
        parsed["Authentication-Results"] = (
            f"{RECEIVING_SERVER}; dkim=pass "
            "header.d=kommune.example; dmarc=pass "
            "header.from=kommune.example"
        )
    return parsed.as_bytes()


@pytest.fixture
def trusted_forwarding(settings):
    """The municipality's configuration: which forwarder and which receiving server."""
    settings.MAIL_TRUSTED_SENDERS = [FORWARDER]
    settings.MAIL_TRUSTED_AUTHSERV_IDS = [RECEIVING_SERVER]


@pytest.fixture
def robot_alone(rules, payroll, settings):
    """Every kind in automatic mode with no random checks: the robot acts on its own, as
    after a finished trial."""
    settings.AUTOMATIC_SAMPLE_PERCENT = 0
    ruleset = RuleSet.objects.get(is_active=True)
    for kind in CertificateKind.objects.all():
        ModeSwitch.objects.create(
            kind=kind, ruleset=ruleset, mode=ModeSwitch.Mode.AUTOMATIC, switched_by=payroll
        )


@pytest.fixture
def ordered_in_trial(school, teacher, school_manager, payroll, rules, trusted_forwarding):
    """Order a teacher's certificates for a CPR and mark them ordered at the police."""
    school_manager.email = "leder@nordskolen.example"
    school_manager.save()
    payroll.email = "loen@kommune.example"
    payroll.save()

    def make(cpr: str, name: str = "Åse Østergård"):
        order = order_for(unit=school, profile=teacher, by=school_manager, name=name, cpr=cpr)
        for batch in batching.prepare_batches(by=payroll):
            batching.mark_batch_ordered(batch=batch, by=payroll)
        return order

    return make


@pytest.fixture
def ordered_for(ordered_in_trial, robot_alone):
    """As ordered_in_trial, with the robot acting alone."""
    return ordered_in_trial
