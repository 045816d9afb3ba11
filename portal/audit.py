"""What the audit log (django-auditlog) records: every administrative change to rules,
the catalogue, the organisation, access and the welcome pack, with who and when.

Orders, people, documents and assessments are deliberately not registered: the log
must hold no CPR number and nothing from a certificate. Users are recorded only for
their roles and whether they are active.
"""

import datetime
import json

from auditlog.registry import auditlog
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from . import exports

REGISTERED = {
    "robot.RuleSet": {"exclude_fields": ["created_at"]},
    "robot.Phrase": {},
    "robot.ModeSwitch": {},
    "orders.CertificateKind": {},
    "orders.LegalBasis": {},
    "orders.PositionProfile": {},
    "orders.ProfileRequirement": {},
    "orders.ChildContactRule": {},
    # Which job code means which position decides which new hires are prompted for an
    # order, so a changed mapping is as much an administrative decision as the catalogue.
    "orders.JobCode": {},
    "orders.HireColumns": {},
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


# What a person reads for a value that was not there: auditlog writes "None", an import
# may write None, and an entry from before a field existed has no value at all.
EMPTY = "–"
NO_VALUES = {None, "None", ""}
CSV_HEADERS = [
    "timestamp",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "changes",
    "remote_addr",
]


def audit_changes(entry) -> list[tuple[str, tuple[str, str]]]:
    """The entry's changed fields with Danish names and values as a person reads them.

    auditlog's own display (changes_display_dict) fails on a None it did not write itself
    and shows Python's None/True/False; the reverse relations it records on creation
    ("robot.Phrase.None") say nothing and are left out."""
    changes = entry.changes_dict
    if not isinstance(changes, dict):
        return []
    model = entry.content_type.model_class()
    shown = []
    for name, values in changes.items():
        if isinstance(values, dict):
            continue  # many-to-many changes: none of the audited models has one
        if isinstance(values, list | tuple):
            if len(values) > 2:
                continue
            before, after = [*values, None, None][:2]
        else:
            before, after = None, values
        field = _field(model, name)
        if field is not None and field.auto_created and not field.concrete:
            continue
        label = capfirst(getattr(field, "verbose_name", name))
        shown.append((label, (_value(field, before), _value(field, after))))
    return shown


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _value(field, value) -> str:
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if value in NO_VALUES:
        return EMPTY
    text = str(value)
    if text in ("True", "False"):
        return str(_("Yes") if text == "True" else _("No"))
    if field is None:
        return text
    if getattr(field, "choices", None):
        return str({str(key): label for key, label in field.flatchoices}.get(text, text))
    if field.many_to_one or field.one_to_one:
        return _related(field, text)
    try:
        if isinstance(field, models.DateTimeField) and (moment := parse_datetime(text)):
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return formats.localize(timezone.localtime(moment))
        if isinstance(field, models.DateField) and (day := parse_date(text)):
            return formats.localize(day)
    except ValueError:
        pass  # well formed but no such day: shown as written
    return text


def _related(field, text: str) -> str:
    try:
        related = field.related_model._base_manager.filter(pk=text).first()
    except (ValueError, ValidationError):
        return text
    return str(related) if related is not None else text


def write_audit_csv(stream, entries) -> None:
    """The entries as CSV for an auditor: who changed what, when, from what to what."""
    from auditlog.models import LogEntry

    writer = exports.csv_writer(stream)
    writer.writerow(CSV_HEADERS)
    actions = dict(LogEntry.Action.choices)
    for entry in entries.select_related("actor", "content_type").order_by("timestamp"):
        writer.writerow(
            [
                entry.timestamp.isoformat(),
                entry.actor.get_username() if entry.actor else "",
                actions.get(entry.action, entry.action),
                f"{entry.content_type.app_label}.{entry.content_type.model}",
                entry.object_pk,
                entry.object_repr,
                "; ".join(
                    f"{label}: {before} → {after}"
                    for label, (before, after) in audit_changes(entry)
                ),
                entry.remote_addr or "",
            ]
        )
