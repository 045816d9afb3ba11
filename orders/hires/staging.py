"""Payroll's upload of the HR system's new-hire report, staged: the dry run is recorded
with its records encrypted, then applied whole or discarded. The SD poll keeps the
employments it could not read in the same encrypted form.
"""

import base64
import json

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from portal.cpr import decrypt_cpr, encrypt_cpr
from portal.models import User
from portal.tabular import shown

from ..models import HireColumns, HireImport
from .applying import apply_plan
from .evaluation import job_code_administrators
from .exceptions import HireError
from .planning import plan_hire_import, unit_names
from .sources import HireRecord, SourceError, read_hire_file


@sensitive_variables("records")
def encrypt_records(records: list[HireRecord]) -> str:
    payload = json.dumps([{**vars(r), "start_date": str(r.start_date)} for r in records])
    return encrypt_cpr(base64.b64encode(payload.encode()).decode())


def decrypt_records(token: str) -> list[HireRecord]:
    payload = base64.b64decode(decrypt_cpr(token)).decode()
    return [HireRecord(**item) for item in json.loads(payload)]


def start_file_import(*, data: bytes, filename: str, by: User) -> HireImport:
    """Read an uploaded new-hire report and record its dry run; nothing is applied."""
    columns = HireColumns.objects.first() or HireColumns()
    try:
        records = read_hire_file(data, filename, columns=columns, ask=job_code_administrators())
    except SourceError as error:
        # On record with its reason, like a failed poll; the uploader sees it on the form.
        HireImport.objects.create(
            source=HireImport.Source.FILE,
            state=HireImport.State.FAILED,
            filename=_stored_filename(filename),
            error=str(error),
            created_by=by,
        )
        raise
    plan = plan_hire_import(records)
    return HireImport.objects.create(
        source=HireImport.Source.FILE,
        state=HireImport.State.DRY_RUN,
        filename=_stored_filename(filename),
        payload_encrypted=encrypt_records(records),
        summary=plan.summary(unit_names(plan)),
        created_by=by,
    )


def _stored_filename(filename: str) -> str:
    """A file is often named after the person ("251296-1236 Anna.xlsx"): the number is
    masked before the name is stored."""
    return shown(filename, 255)


@transaction.atomic
def apply_hire_import(*, hire_import: HireImport, by: User | None) -> HireImport:
    """Apply a dry run: all of it or, when a row is bad, none of it."""
    hire_import = HireImport.objects.select_for_update().get(pk=hire_import.pk)
    if hire_import.state == HireImport.State.APPLIED:
        return hire_import  # a double click
    if hire_import.state != HireImport.State.DRY_RUN:
        raise HireError(_("This import can no longer be applied."))
    if not hire_import.payload_encrypted:
        raise HireError(_("This import can no longer be applied."))
    plan = plan_hire_import(decrypt_records(hire_import.payload_encrypted))
    if plan.errors:
        raise HireError(
            _(
                "The file has rows with errors. Correct them and upload it again; "
                "nothing has been imported."
            )
        )
    apply_plan(plan)
    hire_import.state = HireImport.State.APPLIED
    hire_import.applied_at = timezone.now()
    hire_import.payload_encrypted = ""  # the CPR numbers now live only on the persons
    hire_import.summary = plan.summary(unit_names(plan))
    hire_import.created_by = hire_import.created_by or by
    hire_import.save(
        update_fields=["state", "applied_at", "payload_encrypted", "summary", "created_by"]
    )
    return hire_import


@transaction.atomic
def discard_hire_import(*, hire_import: HireImport) -> None:
    HireImport.objects.filter(pk=hire_import.pk, state=HireImport.State.DRY_RUN).update(
        state=HireImport.State.DISCARDED, payload_encrypted=""
    )
