"""Applying a plan: hires created, updated and withdrawn in bulk, with their persons."""

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from portal.cpr import encrypt_cpr, hash_cpr

from ..models import Hire, Person
from .evaluation import (
    NeedsLookup,
    evaluate,
    evaluate_job_change,
    kinds_had,
    orders_by_person_and_unit,
)
from .planning import HirePlan
from .reminders import tell_manager_of_withdrawal

# A hire in one of these has been dealt with by the manager: an import never undoes it.
DECIDED = (Hire.Status.ORDERED, Hire.Status.NOT_NEEDED)


@sensitive_variables("plan")
def apply_plan(plan: HirePlan) -> None:
    """Create, update and withdraw hires in bulk (the caller holds the transaction)."""
    now = timezone.now()
    items = plan.new + plan.changed + plan.withdrawn
    persons = _persons_for([p.cpr for p in items])
    needs = NeedsLookup()
    existing = {
        h.source_key: h
        for h in Hire.objects.select_for_update().filter(
            source_key__in=[p.key for p in plan.changed + plan.withdrawn]
        )
    }
    orders = orders_by_person_and_unit(persons.values())
    new_hires = []
    for item in plan.new:
        person = persons[hash_cpr(item.cpr)]
        hire = Hire(
            source_key=item.key,
            person=person,
            full_name=item.full_name,
            unit_id=item.unit_id,
            start_date=item.start_date,
            job_code=item.job_code,
            created_at=now,
            updated_at=now,
        )
        evaluate(hire, needs=needs, orders=orders)
        new_hires.append(hire)
    Hire.objects.bulk_create(new_hires, batch_size=1000)
    changed = []
    had = kinds_had([existing[item.key].person_id for item in plan.changed])
    for item in plan.changed:
        hire = existing[item.key]
        new_job = hire.job_code != item.job_code
        hire.full_name, hire.unit_id = item.full_name, item.unit_id
        hire.start_date, hire.job_code, hire.updated_at = item.start_date, item.job_code, now
        if hire.status not in DECIDED:
            evaluate(hire, needs=needs, orders=orders)
        elif new_job:
            evaluate_job_change(hire, needs=needs, had=had.get(hire.person_id, set()))
        changed.append(hire)
    withdrawn = []
    for item in plan.withdrawn:
        hire = existing[item.key]
        hire.status, hire.updated_at = Hire.Status.WITHDRAWN, now
        withdrawn.append(hire)
    Hire.objects.bulk_update(
        changed + withdrawn,
        ["full_name", "unit", "start_date", "job_code", "profile", "status", "order", "updated_at"],
        batch_size=1000,
    )
    for hire in withdrawn:
        tell_manager_of_withdrawal(hire)


def _persons_for(cprs: list[str]) -> dict[str, Person]:
    """Persons by CPR hash, creating the missing ones in one statement."""
    by_hash = {hash_cpr(cpr): cpr for cpr in cprs}
    found = {p.cpr_hash: p for p in Person.objects.filter(cpr_hash__in=list(by_hash))}
    missing = [
        Person(cpr_hash=h, cpr_encrypted=encrypt_cpr(cpr))
        for h, cpr in by_hash.items()
        if h not in found
    ]
    if missing:
        Person.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
        found.update(
            {
                p.cpr_hash: p
                for p in Person.objects.filter(cpr_hash__in=[p.cpr_hash for p in missing])
            }
        )
    return found
