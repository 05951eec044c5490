"""SQLite's board-fact triggers made again (rectify.dashboard.facts): a task unit's insert has one
trigger per counted role, each one statement over the row (0.1 s less of a 10,000-row import's
write lock). The facts themselves are unchanged, so the table is not refilled. On PostgreSQL the
statements are the same as 0006's (an insert there is one statement-level trigger)."""

from django.db import migrations

from rectify.dashboard import facts


def remake(apps, schema_editor):
    facts.drop_triggers(schema_editor)
    facts.create_triggers(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0006_board_fact_category'),
    ]

    # back to 0006: the triggers stay as made here, which keep the same facts
    operations = [migrations.RunPython(remake, migrations.RunPython.noop)]
