"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit events (SECURITY.md #15)."""

from django.db import migrations


def protect(apps, schema_editor):
    from rectify.core.audit import protect_events_sql

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in protect_events_sql():
            cursor.execute(statement)


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_event_append_only ON core_event;")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(protect, unprotect)]
