from django.db import migrations
from django.utils import timezone

from robot.rules import STANDARD_PHRASES


def new_version(apps, schema_editor):
    """Version 2 of the standard rules: more signs of a registration, narrower refusals.

    Only where the active rules are still the untouched standard version 1."""
    RuleSet = apps.get_model("robot", "RuleSet")
    Phrase = apps.get_model("robot", "Phrase")
    Kind = apps.get_model("orders", "CertificateKind")
    active = RuleSet.objects.filter(is_active=True).first()
    if active is None or active.version != 1 or RuleSet.objects.count() != 1:
        return
    active.is_active = False
    active.save(update_fields=["is_active"])
    ruleset = RuleSet.objects.create(version=2, is_active=True, activated_at=timezone.now(),
                                     note="Standard: more signs of a registration")
    kinds = {k.code: k for k in Kind.objects.all()}
    Phrase.objects.bulk_create(
        Phrase(ruleset=ruleset, role=role, kind=kinds.get(code), text=text)
        for role, code, text in STANDARD_PHRASES
    )


class Migration(migrations.Migration):
    dependencies = [("robot", "0002_standard_rules")]

    operations = [migrations.RunPython(new_version, migrations.RunPython.noop)]
