import io
import json
import zlib

import pytest

from orders import batching
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from orders.catalogue import ensure_standard_catalogue
from orders.models import CertificateKind, LegalBasis
from robot.models import Phrase, RuleSet
from robot.rules import ensure_standard_rules, rules_from

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


@pytest.fixture
def ordered_for(school, teacher, school_manager, payroll, rules):
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
