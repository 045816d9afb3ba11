import datetime
import itertools
import uuid

import factory
from django.utils import timezone

from orders.models import CertificateKind, LegalBasis, PositionProfile, ProfileRequirement
from orders.services import place_order
from portal.models import Area, Membership, Unit, User

_serial = itertools.count(1000)


def make_cpr(birth: str = "010190") -> str:
    """A valid synthetic CPR number (real date; serials need not satisfy modulus 11)."""
    return f"{birth}{next(_serial) % 10000:04d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Bruger {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("secret-password-1")


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"Forvaltning {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    area = factory.SubFactory(AreaFactory)
    name = factory.Sequence(lambda n: f"Enhed {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)


class PositionProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PositionProfile

    area = factory.SubFactory(AreaFactory)
    name = factory.Sequence(lambda n: f"Stilling {n}")


def basis(kind_code: str, text: str | None = None) -> LegalBasis:
    bases = LegalBasis.objects.filter(kind__code=kind_code)
    if text:
        bases = bases.filter(text=text)
    return bases.order_by("pk").first()


def require(profile: PositionProfile, legal_basis: LegalBasis, level: str = "required"):
    return ProfileRequirement.objects.create(profile=profile, legal_basis=legal_basis, level=level)


def order_for(
    *,
    unit: Unit,
    profile: PositionProfile,
    by: User,
    name: str = "Ny Ansat",
    cpr: str | None = None,
    bases=None,
    start_date=None,
    digital_post_exempt: bool = False,
):
    """Place an order through the service, as a manager would."""
    return place_order(
        by=by,
        unit=unit,
        profile=profile,
        full_name=name,
        cpr=cpr or make_cpr(),
        start_date=start_date or timezone.localdate() + datetime.timedelta(days=14),
        legal_bases=bases or [r.legal_basis for r in profile.requirements.all()],
        child_contact=None,
        submission_token=uuid.uuid4(),
        digital_post_exempt=digital_post_exempt,
    )


def kind(code: str) -> CertificateKind:
    return CertificateKind.objects.get(code=code)


def hire_awaiting_order(
    *, unit: Unit, profile: PositionProfile, name: str, start_date, person=None
):
    """A new hire from the HR system whose managers still have to order, with the job code
    mapped to the position (as an administrator would map it)."""
    from orders.models import Hire, JobCode
    from orders.services import get_or_create_person

    JobCode.objects.get_or_create(area=unit.area, code="1234", defaults={"profile": profile})
    return Hire.objects.create(
        source_key=f"emp:{uuid.uuid4().hex[:8]}",
        person=get_or_create_person(cpr=make_cpr()),
        full_name=name,
        unit=unit,
        start_date=start_date,
        job_code="1234",
        profile=profile,
        status=Hire.Status.AWAITING_ORDER,
    )
