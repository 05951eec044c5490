"""The colour and progress sorts' stored keys (Task.colour_order, Task.progress_order) and their
indexes.

SQLite adds a stored column by rebuilding the table (a new one copied, the old dropped, the new
renamed), and two things go wrong around a rebuild of ledger_task: the rename is refused while a
trigger anywhere names the table (the board facts' and round tallies' triggers on the task units
and snapshots join it), and the table's own triggers and statistics go with the old table. So on
SQLite every trigger whose text names ledger_task is kept aside and dropped before, and made again
from its own text after; where the database has statistics (sqlite_stat1), the table's are gathered
again (a table without them beside analysed ones misleads the planner: see 0016). PostgreSQL alters
the table in place: nothing to do."""

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Coalesce

_KEPT: list[tuple[str, str]] = []  # (name, CREATE TRIGGER text) of the triggers set aside


def set_triggers_aside(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%ledger_task%' "
                       "ORDER BY name")
        _KEPT[:] = cursor.fetchall()
        for name, _sql in _KEPT:
            cursor.execute(f'DROP TRIGGER "{name}"')


def restore_triggers(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for _name, sql in _KEPT:
            cursor.execute(sql)
        _KEPT.clear()
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone():
            cursor.execute("ANALYZE ledger_task")


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0016_task_category_progress_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(set_triggers_aside, restore_triggers),
        migrations.AddField(
            model_name='task',
            name='colour_order',
            field=models.GeneratedField(
                db_persist=True,
                expression=(models.Case(models.When(warning_colour='red', then=models.Value(0)),
                                        models.When(warning_colour='yellow', then=models.Value(100000)),
                                        models.When(warning_colour='blue', then=models.Value(200000)),
                                        default=models.Value(300000))
                            + (Coalesce('actual_percent', models.Value(-1)) + models.Value(1)) * models.Value(2)
                            + models.Case(models.When(deadline__isnull=True, then=models.Value(1)),
                                          default=models.Value(0))),
                output_field=models.PositiveIntegerField()),
        ),
        migrations.AddField(
            model_name='task',
            name='progress_order',
            field=models.GeneratedField(
                db_persist=True,
                expression=((Coalesce('actual_percent', models.Value(-1)) + models.Value(1)) * models.Value(2)
                            + models.Case(models.When(deadline__isnull=True, then=models.Value(1)),
                                          default=models.Value(0))),
                output_field=models.PositiveIntegerField()),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['colour_order', 'deadline', 'id'], name='task_colour_order_idx'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['progress_order', 'deadline', 'id'], name='task_progress_order_idx'),
        ),
        migrations.RunPython(restore_triggers, set_triggers_aside),
    ]
