"""A tiny test PKI: a root CA, a signer it issued, an unrelated "stranger" CA; PDF
signing with pyHanko and DKIM signing with dkimpy, with a DNS stand-in for the keys."""

import base64
import datetime
import io
from dataclasses import dataclass
from functools import cache

import dkim
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from robot.provenance_pdf import outside_event_loop

_NOW = datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Party:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Pki:
    root: Party  # the police's CA, configured as trust anchor
    signer: Party  # issued by root, with digitalSignature key usage
    stranger: Party  # a CA nobody configured, which issued stranger_signer
    stranger_signer: Party


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Testpoliti"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(common_name: str) -> Party:
    key = new_key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - datetime.timedelta(days=1))
        .not_valid_after(_NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Party(cert, key)


def _issued(ca: Party, common_name: str) -> Party:
    key = new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - datetime.timedelta(days=1))
        .not_valid_after(_NOW + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Party(cert, key)


@cache
def the_pki() -> Pki:
    """Made once per test run: RSA key generation is the slow part."""
    root, stranger = _ca("Testpoliti Rod-CA"), _ca("Fremmed Rod-CA")
    return Pki(
        root=root,
        signer=_issued(root, "Rigspolitiet Testsignatur"),
        stranger=stranger,
        stranger_signer=_issued(stranger, "Falsk Rigspolitiet"),
    )


def sign_pdf(pdf: bytes, signer: Party, issuer: Party, *, field_name: str = "Signatur") -> bytes:
    """Sign a PDF in an incremental update, the way a PAdES signer does."""
    simple_signer = signers.SimpleSigner(
        signing_cert=next(load_certs_from_pemder_data(signer.pem)),
        signing_key=load_private_key_from_pemder_data(
            signer.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            passphrase=None,
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            list(load_certs_from_pemder_data(issuer.pem))
        ),
    )
    # Browser tests leave an event loop running in this thread; pyHanko starts its own.
    out = outside_event_loop(
        signers.sign_pdf,
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name=field_name),
        simple_signer,
    )
    return out.getvalue()


@cache
def dkim_key() -> rsa.RSAPrivateKey:
    return new_key()


def dkim_sign(
    message: bytes,
    *,
    domain: str,
    selector: str = "sel1",
    key: rsa.RSAPrivateKey | None = None,
    **options,
) -> bytes:
    """The message with a DKIM-Signature header prepended, as the sending server adds it."""
    pem = (key or dkim_key()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return dkim.sign(message, selector.encode(), domain.encode(), pem, **options) + message


def dkim_txt(key: rsa.RSAPrivateKey | None = None) -> bytes:
    """The TXT record publishing a DKIM key: v=DKIM1; k=rsa; p=<base64 DER SPKI>."""
    der = (
        (key or dkim_key())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def fake_dns(records: dict[str, bytes]):
    """A dnsfunc for dkimpy answering TXT lookups from a dict keyed by
    "selector._domainkey.domain"; unknown names have no record."""
    known = {name.lower().rstrip("."): value for name, value in records.items()}

    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        return known.get(name.lower().rstrip("."))

    return lookup
