# The statistics' triggers made by migrations 0007, 0009 and 0016, hand-written in two SQL
# dialects, are replaced by the ones robot/statistics/triggers.py generates from its one
# declaration. They also watch what the old ones missed (a deleted document, a timeline
# event changed in place, a line's kind or order), so every line and document is summarised
# once more (by beat, a chunk at a time).

from django.db import migrations

from robot.statistics.triggers import (
    STALE,
    drop_statistics_triggers_migration,
    recreate_statistics_triggers_migration,
)


def summarise_everything_again(apps, schema_editor):
    schema_editor.execute(f"INSERT INTO {STALE} (line_id) SELECT id FROM orders_orderline")
    schema_editor.execute(f"INSERT INTO {STALE} (document_id) SELECT id FROM robot_document")


class Migration(migrations.Migration):
    dependencies = [
        ("robot", "0017_uploads_and_second_answers"),
    ]

    operations = [
        migrations.RunPython(
            recreate_statistics_triggers_migration, drop_statistics_triggers_migration
        ),
        migrations.RunPython(summarise_everything_again, migrations.RunPython.noop),
    ]
