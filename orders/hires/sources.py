"""Where new hires come from: the HR system's new-hire report as a CSV or XLSX file,
and SD Løn's web service. Each source turns its input into HireRecords and knows
nothing about hires in the portal; planning.py and applying.py plan and apply them.

No CPR number may reach a log line or an exception message from here.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from portal import tabular
from portal.sd import SDClient, SDError, parse_sd_xml, sd_date
from portal.sd import children as _children
from portal.sd import local as _local
from portal.sd import text as _text

logger = logging.getLogger(__name__)


@dataclass
class HireRecord:
    """One row of a source, as read: validated later against the portal's data."""

    row: int
    employment_id: str = ""
    full_name: str = ""
    cpr: str = field(default="", repr=False)
    unit: str = ""
    start_date: str | datetime.date = ""
    job_code: str = ""
    withdrawn: bool = False


class SourceError(Exception):
    """The source could not be read at all; the message is fit for the user."""


# --- Files -------------------------------------------------------------------------


def read_table(data: bytes, filename: str):
    try:
        return tabular.read_table(data, filename)
    except tabular.TableError as error:
        raise SourceError(str(error)) from None


def expected_columns(columns) -> list[tuple[str, bool]]:
    """The report's column names as an administrator mapped them, each with whether the
    file must have it, in the order the example file has them."""
    return [
        (name, required)
        for name, required in (
            (columns.employment_id, False),
            (columns.full_name, True),
            (columns.cpr, True),
            (columns.unit, True),
            (columns.start_date, True),
            (columns.job_code, True),
            (columns.status, False),
        )
        if name
    ]


def example_file(columns) -> str:
    """A CSV file with the mapped column names and one made-up row (the CPR number
    is the portal's usual example), for payroll to compare with what the HR system exports."""
    values = {
        columns.employment_id: "100234",
        columns.full_name: "Anna Hansen",
        columns.cpr: "010190-1234",
        columns.unit: "SKOLE1",
        columns.start_date: "01.08.2027",
        columns.job_code: "1234",
        columns.status: "",
    }
    names = [name for name, _required in expected_columns(columns)]
    return ";".join(names) + "\r\n" + ";".join(values.get(n, "") for n in names) + "\r\n"


def read_hire_file(data: bytes, filename: str, *, columns, ask: str = "") -> list[HireRecord]:
    """The new-hire report's rows, by the column names an administrator mapped. `ask`
    names whom payroll asks when the HR system names a column differently."""
    table = read_table(data, filename)
    headers = set(table[0][1]) if table else set()
    required = [name for name, needed in expected_columns(columns) if needed]
    missing = [name for name in required if name not in headers]
    if table and missing:
        raise SourceError(
            _(
                "The file has no column named %(columns)s. The report must have the "
                "columns %(required)s. If the HR system names them differently, ask "
                "%(ask)s to change the column names in the portal."
            )
            % {
                "columns": ", ".join(missing),
                "required": ", ".join(required),
                "ask": ask or _("an administrator of the portal"),
            }
        )
    withdrawn_values = {v.strip().lower() for v in columns.withdrawn_values.split(",") if v.strip()}
    records = []
    for number, row in table:

        def cell(name: str, row=row) -> str:
            value = row.get(name) if name else None
            if isinstance(value, datetime.datetime):
                value = value.date()
            if isinstance(value, datetime.date):
                return value
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return "" if value is None else str(value).strip()

        records.append(
            HireRecord(
                row=number,
                employment_id=cell(columns.employment_id),
                full_name=cell(columns.full_name),
                cpr=_cpr_cell(row.get(columns.cpr), cell(columns.cpr)),
                unit=cell(columns.unit),
                start_date=cell(columns.start_date),
                job_code=cell(columns.job_code),
                withdrawn=str(cell(columns.status)).lower() in withdrawn_values,
            )
        )
    return records


def _cpr_cell(value, text: str) -> str:
    # Excel stores a CPR number typed as a number without its leading zero.
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return str(int(value)).zfill(10)
        except (OverflowError, ValueError):  # inf and NaN: not a number the plan accepts
            return text
    return text


# --- SD Løn's web service ----------------------------------------------------------

# SD's employment status codes: 0-3 employed (with or without pay), 7 dead, 8 left,
# 9 pensioned, S deleted. A hire deleted or gone before starting withdraws the prompt.
SD_WITHDRAWN_CODES = {"7", "8", "9", "S"}


class SDLoenSource:
    """`GetEmploymentChangedAtDate20111201`: employments changed in a period."""

    SERVICE = "GetEmploymentChangedAtDate20111201"

    def __init__(self, client: SDClient):
        self.client = client

    @classmethod
    def from_settings(cls) -> "SDLoenSource":
        return cls(SDClient.from_settings())

    def fetch(self, *, start: datetime.date, end: datetime.date) -> list[HireRecord]:
        params = {
            "ActivationDate": sd_date(start),
            "DeactivationDate": sd_date(end),
            "StatusActiveIndicator": "true",
            "StatusPassiveIndicator": "true",
            "EmploymentStatusIndicator": "true",
            "DepartmentIndicator": "true",
            "ProfessionIndicator": "true",
            "FutureInformationIndicator": "true",
        }
        try:
            return parse_sd_employments(self.client.call(self.SERVICE, params))
        except SDError as error:
            raise SourceError(str(error)) from None

    @sensitive_variables("missing", "names")
    def fill_names(self, records: list[HireRecord], *, today: datetime.date) -> None:
        """The employment feed often carries no names: ask GetPerson20111201 for each
        person without one (the CPR number in the request body, never in a URL). A
        person SD cannot answer for stays nameless, so the record waits for the next
        poll; after the first failure SD is not asked again in this poll."""
        missing = sorted({r.cpr for r in records if r.cpr and not r.full_name.strip()})
        names: dict[str, str] = {}
        for cpr in missing:
            try:
                root = self.client.call(
                    "GetPerson20111201",
                    {
                        "PersonCivilRegistrationIdentifier": cpr,
                        "EffectiveDate": sd_date(today),
                        "StatusActiveIndicator": "true",
                        "StatusPassiveIndicator": "true",
                        "ContactInformationIndicator": "false",
                        "PostalAddressIndicator": "false",
                    },
                    post=True,
                )
            except SDError as error:
                logger.warning("SD Løn's GetPerson20111201 failed: %s", error)
                break
            for person in root.iter():
                if (
                    _local(person.tag) == "Person"
                    and _text(person, "PersonCivilRegistrationIdentifier") == cpr
                ):
                    names[cpr] = _person_name(person)
                    break
        for record in records:
            if not record.full_name.strip() and names.get(record.cpr):
                record.full_name = names[record.cpr]


def parse_sd_employments(content) -> list[HireRecord]:
    """SD's XML answer (bytes or parsed) as HireRecords; the newest department,
    profession and status of each employment count."""
    if isinstance(content, bytes | str):
        try:
            root = parse_sd_xml(content if isinstance(content, bytes) else content.encode())
        except SDError as error:
            raise SourceError(str(error)) from None
    else:
        root = content
    records = []
    for person in root.iter():
        if _local(person.tag) != "Person":
            continue
        cpr = _text(person, "PersonCivilRegistrationIdentifier")
        name = _person_name(person)
        for employment in _children(person, "Employment"):
            department = _latest(employment, "EmploymentDepartment")
            profession = _latest(employment, "Profession")
            status = _latest(employment, "EmploymentStatus")
            records.append(
                HireRecord(
                    row=len(records) + 1,
                    employment_id=_text(employment, "EmploymentIdentifier"),
                    full_name=name,
                    cpr=cpr,
                    unit=_text(department, "DepartmentIdentifier"),
                    start_date=_text(employment, "EmploymentDate"),
                    job_code=_text(profession, "JobPositionIdentifier"),
                    withdrawn=_text(status, "EmploymentStatusCode") in SD_WITHDRAWN_CODES,
                )
            )
    return records


def _person_name(person) -> str:
    return " ".join(
        filter(None, [_text(person, "PersonGivenName"), _text(person, "PersonSurnameName")])
    )


def _latest(employment, name: str):
    found = list(_children(employment, name))
    return max(found, key=lambda e: _text(e, "ActivationDate")) if found else None
