from django.db import migrations

from orders.catalogue import ensure_standard_catalogue


def seed(apps, schema_editor):
    ensure_standard_catalogue(apps.get_model("orders", "CertificateKind"),
                              apps.get_model("orders", "LegalBasis"))


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
