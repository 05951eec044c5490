"""Board facts with the task's category (rectify.dashboard.facts): a leader's sectors are whole
categories, whose lead-unit facts are read as a range of an index instead of by each of their
tasks. The triggers of 0003 (if a database has them) are dropped, the column added, the triggers
made again with the category, the table filled from the ledger, then indexed."""

from django.db import migrations, models

from rectify.dashboard import facts


def drop(apps, schema_editor):
    facts.drop_triggers(schema_editor)


def create(apps, schema_editor):
    facts.create_triggers(schema_editor)
    facts.fill_board_facts(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0005_round_tally_category'),
        ('ledger', '0016_task_category_progress_index'),
        ('orgs', '0008_unit_picker_order_index'),
    ]

    operations = [
        migrations.RunPython(drop, migrations.RunPython.noop),  # back to 0005: no facts triggers (0003's are gone)
        migrations.AddField(
            model_name='boardfact',
            name='category',
            field=models.CharField(blank=True, default='', max_length=30),
        ),
        migrations.RunPython(create, drop),
        migrations.AddIndex(
            model_name='boardfact',
            index=models.Index(fields=['kind', 'category', 'unit', 'status'], name='boardfact_kind_category'),
        ),
    ]
