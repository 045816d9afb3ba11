"""New hires from the HR system: plan an import (the dry run), apply it, prompt the
unit's managers to order, remind them, and tell payroll who would start without the
certificates their position requires.

Every change to a hire goes through a function of this package. Its modules, each
importing only modules listed above it:

- exceptions: HireError, a change that is not allowed
- sources: the HR system's report file and SD Løn's web service, read into HireRecords
- planning: the dry run, records checked and compared with the hires we know
- evaluation: a hire's profile and status from its job code and the orders placed
- reminders: the e-mails to a hire's managers
- applying: a plan carried out in bulk
- staging: payroll's upload, staged encrypted, then applied or discarded
- sd_poll: SD Løn polled by the beat schedule
- prompts: the manager's side (visibility, the prompt, ordering or "not needed")
- compliance: payroll's list of hires missing a certificate
- renewals: prompts again when a position's certificate must be renewed

Callers outside the package use the names below.
"""

from .compliance import (
    compliance_list,
    hires_without_position,
    open_lines_in_closed_units,
    orders_without_hire_missing_certificates,
)
from .evaluation import job_code_administrators, reevaluate_open_hires
from .exceptions import HireError
from .planning import shown_summary
from .prompts import hires_visible_to, link_order, log_hire_access, mark_not_needed, prompts_for
from .reminders import hire_reminders_sent, send_hire_reminders
from .renewals import prompt_renewals, renewals_overdue
from .sd_poll import failed_polls, poll_sd, unread_hires
from .sources import SourceError, example_file, expected_columns
from .staging import apply_hire_import, discard_hire_import, start_file_import

__all__ = [
    "HireError",
    "SourceError",
    "apply_hire_import",
    "compliance_list",
    "discard_hire_import",
    "example_file",
    "expected_columns",
    "failed_polls",
    "hire_reminders_sent",
    "hires_visible_to",
    "hires_without_position",
    "job_code_administrators",
    "link_order",
    "log_hire_access",
    "mark_not_needed",
    "open_lines_in_closed_units",
    "orders_without_hire_missing_certificates",
    "poll_sd",
    "prompt_renewals",
    "prompts_for",
    "reevaluate_open_hires",
    "renewals_overdue",
    "send_hire_reminders",
    "shown_summary",
    "start_file_import",
    "unread_hires",
]
