from django.db import migrations


def danish_notes(apps, schema_editor):
    """The standard version 2's note was English; administrators read it in the admin."""
    RuleSet = apps.get_model("robot", "RuleSet")
    RuleSet.objects.filter(note="Standard: more signs of a registration").update(
        note="Standard: flere tegn på en registrering"
    )


class Migration(migrations.Migration):
    dependencies = [("robot", "0007_danish_admin_names")]

    operations = [migrations.RunPython(danish_notes, migrations.RunPython.noop)]
