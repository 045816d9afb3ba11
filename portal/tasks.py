from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def import_organisation() -> str:
    """Beat's import of the organisation from ORG_IMPORT_SOURCE: applied and recorded.
    Two runs at once are safe: the apply locks the units, so the second finds nothing
    left to change."""
    from . import org_import, org_sources

    source = org_sources.scheduled_source()
    if source is None:
        return "off"
    return org_import.run_import(source).state
