"""The keyword index kept exact (rectify.ledger.search): a trigger on the tasks removes a deleted
task's row in the statement that deletes it (on PostgreSQL also on a TRUNCATE of the tasks), and the
rows of tasks already deleted go. The ledger list then counts a keyword the index decides from the
index alone for an office that sees every task (docs/performance.md, goal 2)."""

from django.db import migrations

from rectify.ledger import search


def forwards(apps, schema_editor):
    search.create_delete_trigger(schema_editor)


def backwards(apps, schema_editor):
    search.drop_delete_trigger(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0017_task_colour_order")]

    operations = [migrations.RunPython(forwards, backwards)]
