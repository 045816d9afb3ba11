"""Every URL of the project, for every role: what answer each one gets.

Adding a URL without adding it here fails `test_every_url_pattern_is_in_the_matrix`.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orders.batching import prepare_batches
from orders.hires import start_file_import
from orders.models import DuplicateAttempt, Hire
from robot.intake import ingest_bytes
from robot.models import FilingJob, Proposal, RuleSet

from .factories import order_for

ROLES = ["anonymous", "manager_a", "manager_b", "payroll", "admin"]
LOGIN = "login"  # redirect to the login page

# name: (method, {role: expected status or LOGIN})
MATRIX = {
    "home": (
        "get",
        {"anonymous": LOGIN, "manager_a": 302, "manager_b": 302, "payroll": 302, "admin": 200},
    ),
    "login": (
        "get",
        {"anonymous": 200, "manager_a": 302, "manager_b": 302, "payroll": 302, "admin": 302},
    ),
    "logout": ("post", {role: 302 for role in ROLES}),
    # Single sign-on is off in the tests (tests/portal/test_sso.py switches it on): 404.
    "oidc_authentication_init": ("get", {role: 404 for role in ROLES}),
    "oidc_authentication_callback": ("get", {role: 404 for role in ROLES}),
    # "Ask for access", shown after a login through the provider gave no access.
    "sso_no_access": ("get", {role: 200 for role in ROLES}),
    # Giving the password again before approving a role (portal/views.py).
    "reauthenticate": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 200},
    ),
    # The same at the provider, for single sign-on users only; single sign-on is off here.
    "oidc_reauthenticate": (
        "get",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 404, "admin": 404},
    ),
    "healthz": ("get", {role: 200 for role in ROLES}),
    # Payroll's start page: what waits for payroll, counted.
    "today": (
        "get",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 200, "admin": 404},
    ),
    "inbox": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 200},
    ),
    "orders:list": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 200},
    ),
    "orders:create": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 403},
    ),
    # Unit A's order: another unit's manager and the administrator get 404, not 403.
    "orders:detail": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 404, "payroll": 200, "admin": 404},
    ),
    # The matrix's order is already in a police batch: its manager is sent back to it.
    "orders:correct": (
        "get",
        {"anonymous": LOGIN, "manager_a": 302, "manager_b": 404, "payroll": 200, "admin": 404},
    ),
    "orders:line_cancel": (
        "post",
        {"anonymous": LOGIN, "manager_a": 302, "manager_b": 404, "payroll": 302, "admin": 404},
    ),
    "orders:line_reorder": (
        "post",
        {"anonymous": LOGIN, "manager_a": 302, "manager_b": 404, "payroll": 302, "admin": 404},
    ),
    "orders:letter": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 404, "payroll": 200, "admin": 404},
    ),
    # A new hire in unit A awaiting an order: only unit A's managers (and payroll).
    "orders:hire_order": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 404, "payroll": 200, "admin": 404},
    ),
    "orders:hire_not_needed": (
        "post",
        {"anonymous": LOGIN, "manager_a": 302, "manager_b": 404, "payroll": 302, "admin": 404},
    ),
    # Payroll's pages show full CPR numbers: everyone else gets 404.
    **{
        name: (
            method,
            {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": ok, "admin": 404},
        )
        for name, method, ok in [
            ("payroll:batches", "get", 200),
            ("payroll:prepare", "post", 302),
            ("payroll:batch", "get", 200),
            ("payroll:batch_csv", "get", 200),
            ("payroll:batch_ordered", "post", 302),
            ("payroll:batch_undo", "post", 302),
            ("payroll:batch_release", "post", 302),
            ("payroll:paper_order", "post", 302),
            ("payroll:duplicate_handled", "post", 302),
            ("payroll:hire_compliance", "get", 200),
            ("payroll:hire_imports", "get", 200),
            ("payroll:hire_import_example", "get", 200),
            ("payroll:hire_import", "get", 200),
            ("payroll:hire_import_apply", "post", 302),
            ("robot:intake", "get", 200),
            ("robot:upload", "post", 400),
            ("robot:queue", "get", 200),
            ("robot:document", "get", 200),
            ("robot:document_file", "get", 200),
            ("robot:document_row", "get", 200),
            ("robot:document_assess", "post", 400),
            ("robot:document_approve", "post", 302),
            ("robot:document_resolve", "post", 400),
            ("robot:document_discard", "post", 400),
            ("robot:document_not_ordered", "post", 200),  # asks to confirm first
            ("robot:document_second_answer", "post", 400),
            ("robot:filing", "get", 200),
            ("robot:filing_action", "post", 302),
            ("robot:proposal_confirm", "post", 302),
            ("robot:proposal_overrule", "post", 400),
        ]
    },
    # Figures about the robot, no personal data: payroll and administrators; only an
    # administrator may let the robot act alone.
    "robot:agreement": (
        "get",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 200, "admin": 200},
    ),
    "robot:agreement_switch": (
        "post",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 404, "admin": 302},
    ),
    # Testing the connection to the case system: administrators only.
    "robot:esdh_connection": (
        "get",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 404, "admin": 200},
    ),
    "welcome": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 200},
    ),
    "welcome_pdf": (
        "get",
        {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 200},
    ),
    "welcome_dismiss": (
        "post",
        {"anonymous": LOGIN, "manager_a": 302, "manager_b": 302, "payroll": 302, "admin": 302},
    ),
    # Statistics: everyone signed in; managers' figures are limited to their own units.
    **{
        name: (
            "get",
            {"anonymous": LOGIN, "manager_a": 200, "manager_b": 200, "payroll": 200, "admin": 200},
        )
        for name in ("statistics:page", "statistics:export", "statistics:monthly_report")
    },
    # A person's access log (data subjects' requests): payroll and administrators only.
    "access_log_export": (
        "get",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 200, "admin": 200},
    ),
    # The organisation from the HR system: administrators only.
    "org_import": (
        "get",
        {"anonymous": LOGIN, "manager_a": 404, "manager_b": 404, "payroll": 404, "admin": 200},
    ),
    # The Django admin is for administrators only; its own URLs follow its own rules.
    "admin:index": (
        "get",
        {"anonymous": 302, "manager_a": 302, "manager_b": 302, "payroll": 302, "admin": 200},
    ),
}
# Namespaces whose URLs are covered by one representative entry above.
COVERED_NAMESPACES = {"admin"}


def all_url_names(resolver=None, namespace=None):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            yield from all_url_names(pattern, f"{inner}" if inner else namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name


def test_every_url_pattern_is_in_the_matrix():
    missing = {
        name
        for name in all_url_names()
        if name not in MATRIX and (name or ":").split(":")[0] not in COVERED_NAMESPACES
    }
    assert not missing, f"URL patterns without an access-matrix entry: {sorted(missing)}"


@pytest.fixture
def people(school, care_home, school_manager, care_manager, payroll, admin_user):
    return {
        "anonymous": None,
        "manager_a": school_manager,
        "manager_b": care_manager,
        "payroll": payroll,
        "admin": admin_user,
    }


@pytest.fixture
def url_for(school, teacher, school_manager, payroll):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    line = order.lines.first()
    batch = prepare_batches(by=payroll)[0]
    document, _ = ingest_bytes(
        b"%PDF-1.4 not really", filename="x.pdf", source="upload", process=False
    )
    filing_job = FilingJob.objects.create(document=document, line=line, reference="AP-MATRIX")
    proposal = Proposal.objects.create(
        document=document,
        line=line,
        kind=line.kind,
        proposed="clean",
        ruleset=RuleSet.objects.filter(is_active=True).first()
        or RuleSet.objects.create(version=900, is_active=True),
    )
    duplicate = DuplicateAttempt.objects.create(
        attempted_by=school_manager,
        unit=school,
        profile=teacher,
        person=order.person,
        full_name="X",
        start_date=order.start_date,
        existing_line=line,
    )
    hire = Hire.objects.create(
        source_key="emp:MATRIX",
        person=order.person,
        full_name="Ny Ansat",
        unit=school,
        start_date=order.start_date,
        job_code="1",
        profile=teacher,
        status=Hire.Status.AWAITING_ORDER,
    )
    hire_import = start_file_import(data=b"Navn\n", filename="x.csv", by=payroll)
    kwargs = {
        "orders:hire_order": {"public_id": hire.public_id},
        "orders:hire_not_needed": {"public_id": hire.public_id},
        "payroll:hire_import": {"public_id": hire_import.public_id},
        "payroll:hire_import_apply": {"public_id": hire_import.public_id},
        "orders:detail": {"public_id": order.public_id},
        "orders:correct": {"public_id": order.public_id},
        "orders:line_cancel": {"public_id": order.public_id, "line_id": line.pk},
        "orders:line_reorder": {"public_id": order.public_id, "line_id": line.pk},
        "orders:letter": {"public_id": order.public_id, "which": "letter"},
        **{
            name: {"pk": batch.pk}
            for name in (
                "payroll:batch",
                "payroll:batch_csv",
                "payroll:batch_ordered",
                "payroll:batch_undo",
                "payroll:batch_release",
            )
        },
        "payroll:paper_order": {"line_id": line.pk},
        "payroll:duplicate_handled": {"pk": duplicate.pk},
        "robot:proposal_confirm": {"pk": proposal.pk},
        "robot:proposal_overrule": {"pk": proposal.pk},
        "robot:agreement_switch": {"kind_id": line.kind_id},
        "robot:filing_action": {"pk": filing_job.pk},
        "statistics:export": {"table": "volumes", "fmt": "csv"},
        **{
            name: {"pk": document.pk}
            for name in (
                "robot:document",
                "robot:document_file",
                "robot:document_row",
                "robot:document_assess",
                "robot:document_approve",
                "robot:document_resolve",
                "robot:document_discard",
                "robot:document_not_ordered",
                "robot:document_second_answer",
            )
        },
    }
    return lambda name: reverse(name, kwargs=kwargs.get(name))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access_matrix(client, people, url_for, care_helper, name, role):
    method, expected_by_role = MATRIX[name]
    expected = expected_by_role[role]
    if people[role] is not None:
        client.force_login(people[role])
    url = url_for(name)

    response = getattr(client, method)(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    else:
        assert response.status_code == expected, f"{role} {method.upper()} {url}"
