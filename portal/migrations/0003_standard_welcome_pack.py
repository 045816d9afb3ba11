from django.db import migrations

from portal.welcome_content import ensure_general_sections


def seed(apps, schema_editor):
    ensure_general_sections(apps.get_model("portal", "WelcomeSection"))


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_welcome_pack")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
