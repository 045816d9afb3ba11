import socket
from pathlib import Path

import pytest

from orders.catalogue import ensure_standard_catalogue
from orders.models import CertificateKind, ChildContactRule, LegalBasis

from .factories import (
    AreaFactory,
    MembershipFactory,
    PositionProfileFactory,
    UnitFactory,
    UserFactory,
    basis,
    require,
)

CHILD = "Ansættelse i børnefagligt område"
SCHOOL = "Ansættelse i folkeskolen (direkte kontakt med elever)"
SOCIAL = "Ansættelse i sociale servicefag (serviceloven §§ 83 og 85)"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_random_checks(settings):
    """The robot in automatic mode sends a random share of clean answers to a person (2 %
    by default): a test that expects an answer to clear set it apart now and then. Tests
    of the random checks set the share themselves."""
    settings.AUTOMATIC_SAMPLE_PERCENT = 0


@pytest.fixture
def tasks_in_process():
    """No worker runs beside the tests (nor beside the browser tests' live server): the
    tasks a test waits for, e-mails included, run in-process even with a real broker."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def catalogue(db):
    # The data migration seeds it, but transactional tests (browser journeys) flush it.
    ensure_standard_catalogue(CertificateKind, LegalBasis)


@pytest.fixture
def school_area(catalogue):
    area = AreaFactory(name="Børn og Unge")
    ChildContactRule.objects.create(area=area, legal_basis=basis("child", CHILD))
    return area


@pytest.fixture
def care_area(catalogue):
    return AreaFactory(name="Ældre og Handicap")


@pytest.fixture
def school(school_area):
    return UnitFactory(area=school_area, name="Nordskolen")


@pytest.fixture
def care_home(care_area):
    return UnitFactory(area=care_area, name="Plejecenter Solgården")


@pytest.fixture
def teacher(school_area):
    profile = PositionProfileFactory(area=school_area, name="Lærer")
    require(profile, basis("child", CHILD))
    require(profile, basis("criminal_public", SCHOOL))
    return profile


@pytest.fixture
def school_secretary(school_area):
    """No certificate required; the children question decides the børneattest."""
    profile = PositionProfileFactory(area=school_area, name="Skolesekretær")
    require(profile, basis("criminal_public", SCHOOL), level="optional")
    return profile


@pytest.fixture
def care_helper(care_area):
    profile = PositionProfileFactory(area=care_area, name="Social- og sundhedshjælper")
    require(profile, basis("criminal_public", SOCIAL))
    return profile


@pytest.fixture
def school_manager(school):
    return MembershipFactory(user=UserFactory(username="leder.a"), unit=school).user


@pytest.fixture
def care_manager(care_home):
    return MembershipFactory(user=UserFactory(username="leder.b"), unit=care_home).user


@pytest.fixture
def payroll(db):
    return UserFactory(username="loen", is_payroll=True)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback. Like a real mail provider it refuses some
    recipients (550) and can be switched off; the portal talks SMTP to it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Mailbox(Message):
        def __init__(self):
            super().__init__()
            self.messages = []
            self.refused = set()

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in self.refused:
                return "550 5.1.1 Mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        def handle_message(self, message):
            self.messages.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    mailbox.controller = controller
    yield mailbox
    controller.stop()


@pytest.fixture(autouse=True)
def document_root(settings, tmp_path):
    """Received files go to a fresh folder per test, never into the working tree."""
    settings.DOCUMENT_ROOT = str(tmp_path / "documents")
    return tmp_path / "documents"


SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "samples"
