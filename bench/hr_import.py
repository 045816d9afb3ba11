"""HR imports: 600 units (organisation import) and 5,000 new hires (file import, dry run
and apply, then the same file again), with time and query counts.

Runs in a throwaway test database on whatever DATABASE_URL points at:
    .venv/bin/python bench/hr_import.py [--units 600] [--hires 5000]
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--hires", type=int, default=5000)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.units, args.hires)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def measure(label: str, fn):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    print(f"{label:<42} {elapsed:7.2f} s {len(queries.captured_queries):6d} queries")
    return result


def measure_sd_organisation(n_units: int, areas) -> None:
    """The same organisation as SD Løn's GetOrganization20111201 and GetDepartment20111201
    would send it (areas at NY3-niveau, units below), read and planned; no HTTP."""
    from portal import org_import
    from portal.org_sources import SDOrgSource
    from portal.sd import parse_sd_xml

    def ref(dep_id, level, inner=""):
        return (
            f"<DepartmentReference><DepartmentIdentifier>{dep_id}</DepartmentIdentifier>"
            f"<DepartmentLevelIdentifier>{level}</DepartmentLevelIdentifier>{inner}"
            "</DepartmentReference>"
        )

    leaves, departments = [], []
    for a, area in enumerate(areas):
        departments.append((f"A{a}", "NY3-niveau", area.name))
    for i in range(n_units):
        area_ref = ref(f"A{i % 4}", "NY3-niveau")
        parent = "" if i < 4 else ref(str(i % 4), "NY2-niveau", area_ref)
        leaves.append(
            ref(str(i), "NY2-niveau" if i < 4 else "Afdelings-niveau", parent or area_ref)
        )
        departments.append((str(i), "", f"Enhed {i}"))
    tree = (
        "<GetOrganization20111201><Organization>"
        + "".join(leaves)
        + "</Organization></GetOrganization20111201>"
    )
    names = "".join(
        f"<Department><DepartmentIdentifier>{d}</DepartmentIdentifier>"
        f"<DepartmentLevelIdentifier>{level}</DepartmentLevelIdentifier>"
        f"<DepartmentName>{name}</DepartmentName></Department>"
        for d, level, name in departments
    )
    source = SDOrgSource(client=None, area_level="NY3-niveau")

    def read_and_plan():
        rows = source.units_from(
            parse_sd_xml(tree.encode()),
            parse_sd_xml(f"<GetDepartment20111201>{names}</GetDepartment20111201>".encode()),
        )
        return org_import.plan_org_import(rows)

    plan = measure(f"organisation from SD XML ({n_units} depts)", read_and_plan)
    assert not plan.errors and not plan.has_changes, (plan.errors[:3], plan.summary())


def run(n_units: int, n_hires: int) -> None:
    from django.utils import timezone

    from orders import hires
    from orders.catalogue import ensure_standard_catalogue
    from orders.models import (
        CertificateKind,
        Hire,
        JobCode,
        LegalBasis,
        PositionProfile,
        ProfileRequirement,
    )
    from portal import org_import
    from portal.models import Area, User

    ensure_standard_catalogue(CertificateKind, LegalBasis)
    areas = [Area.objects.create(name=f"Forvaltning {i}") for i in range(4)]
    basis = LegalBasis.objects.filter(kind__code="criminal_public").first()
    for area in areas:
        profile = PositionProfile.objects.create(area=area, name="Stilling")
        ProfileRequirement.objects.create(profile=profile, legal_basis=basis)
        JobCode.objects.create(area=area, code="1000", profile=profile)
        JobCode.objects.create(area=area, code="2000", profile=None)
    payroll = User.objects.create(username="loen", is_payroll=True)

    lines = ["Id;Navn;Overordnet;Forvaltning"]
    for i in range(n_units):
        parent = "" if i < 4 else str(i % 4)
        lines.append(f"{i};Enhed {i};{parent};Forvaltning {i % 4}")
    units_csv = ("\n".join(lines) + "\n").encode()
    rows = org_import.read_units(units_csv, "units.csv")
    plan = measure(
        f"organisation dry run ({n_units} units)", lambda: org_import.plan_org_import(rows)
    )
    assert not plan.errors, plan.errors[:3]
    measure("organisation apply", lambda: org_import.apply_org_import(plan))
    measure(
        "organisation again (no change)",
        lambda: org_import.plan_org_import(org_import.read_units(units_csv, "units.csv")),
    )

    measure_sd_organisation(n_units, areas)

    start = timezone.localdate() + datetime.timedelta(days=30)
    lines = ["Ansættelsesnummer;Navn;CPR-nummer;Afdeling;Startdato;Stillingskode"]
    for i in range(n_hires):
        cpr = f"{(i % 28) + 1:02d}{(i // 28) % 12 + 1:02d}90{i % 10000:04d}"
        lines.append(
            f"E{i};Ny Ansat;{cpr};{i % n_units};{start:%d.%m.%Y};{'1000' if i % 5 else '2000'}"
        )
    hires_csv = ("\n".join(lines) + "\n").encode()
    hire_import = measure(
        f"hires dry run ({n_hires} rows)",
        lambda: hires.start_file_import(data=hires_csv, filename="hires.csv", by=payroll),
    )
    assert not hire_import.summary["errors"], hire_import.summary["errors"][:3]
    measure("hires apply", lambda: hires.apply_hire_import(hire_import=hire_import, by=payroll))
    again = measure(
        "hires dry run, same file again",
        lambda: hires.start_file_import(data=hires_csv, filename="hires.csv", by=payroll),
    )
    measure(
        "hires apply, same file again",
        lambda: hires.apply_hire_import(hire_import=again, by=payroll),
    )
    measure(
        "compliance list",
        lambda: len(hires.compliance_list(today=start - datetime.timedelta(days=3))),
    )
    print(
        f"hires: {Hire.objects.count()}, awaiting an order: "
        f"{Hire.objects.filter(status=Hire.Status.AWAITING_ORDER).count()}"
    )


if __name__ == "__main__":
    main()
