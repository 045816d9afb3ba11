from django.db import migrations

from robot.rules import ensure_standard_rules


def seed(apps, schema_editor):
    ensure_standard_rules(apps.get_model("robot", "RuleSet"), apps.get_model("robot", "Phrase"),
                          apps.get_model("orders", "CertificateKind"))


class Migration(migrations.Migration):
    dependencies = [("robot", "0001_initial"), ("orders", "0003_standard_catalogue")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
