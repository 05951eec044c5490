"""The task units by unit read from an index that holds the task id (issue 8): a city office's
scope, a unit filter and "my counties" read their tasks from the index alone. The index starts with
the unit, so the unit's own foreign-key index goes (one index less on every task unit written).

The foreign key's index is dropped by name rather than by altering the field: on SQLite an altered
field remakes the table, which would drop the triggers the battle map's facts keep on it
(dashboard 0005–0007)."""

import django.db.models.deletion
from django.db import migrations, models

from rectify.core.dbstats import analyse_new_index

INDEX = "taskunit_unit_task_idx"
FK_INDEX = "ledger_taskunit_unit_id_843cc16a"  # Django's name for the unit's index, the same on both databases


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0020_campaign_tally'),
        ('orgs', '0008_unit_picker_order_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='taskunit',
            index=models.Index(fields=['unit', 'role', 'task'], name=INDEX),
        ),
        migrations.RunPython(analyse_new_index(INDEX), migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='taskunit',
            name='taskunit_unit_role_idx',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='taskunit',
                    name='unit',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name='task_roles', to='orgs.unit'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f"DROP INDEX IF EXISTS {FK_INDEX}",
                                  reverse_sql=f"CREATE INDEX {FK_INDEX} ON ledger_taskunit (unit_id)"),
            ],
        ),
    ]
