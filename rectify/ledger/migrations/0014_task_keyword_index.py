"""The keyword index (rectify.ledger.search): FTS5 on SQLite, tsvector + GIN on PostgreSQL, built
from the tasks already in the ledger."""

from django.db import migrations

from rectify.ledger import search


def forwards(apps, schema_editor):
    search.create_table(schema_editor)
    search.fill(apps.get_model("ledger", "Task"), using=schema_editor.connection.alias)


def backwards(apps, schema_editor):
    search.drop_table(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0013_deadline_kind_index_in_warning_order")]

    operations = [migrations.RunPython(forwards, backwards)]
