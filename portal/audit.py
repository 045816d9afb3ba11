"""What the audit log (django-auditlog) records: every administrative change to rules,
the catalogue, the organisation, access and the welcome pack, with who and when.

Orders, people, documents and assessments are deliberately not registered: the log
must hold no CPR number and nothing from a certificate. Users are recorded only for
their roles and whether they are active.
"""

from auditlog.registry import auditlog
from django.apps import apps

REGISTERED = {
    "robot.RuleSet": {"exclude_fields": ["created_at"]},
    "robot.Phrase": {},
    "robot.ModeSwitch": {},
    "orders.CertificateKind": {},
    "orders.LegalBasis": {},
    "orders.PositionProfile": {},
    "orders.ProfileRequirement": {},
    "orders.ChildContactRule": {},
    "portal.Area": {},
    "portal.UnitType": {},
    "portal.Unit": {},
    "portal.Membership": {},
    "portal.GroupMapping": {},
    "portal.RoleGrant": {},
    "portal.WelcomeSection": {},
    "portal.User": {
        "include_fields": ["username", "is_payroll", "is_staff", "is_superuser", "is_active"]
    },
}


def register_audited_models() -> None:
    for label, options in REGISTERED.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if not auditlog.contains(model):
            auditlog.register(model, **options)
