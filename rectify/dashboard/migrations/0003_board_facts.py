"""Board facts (rectify.dashboard.facts): the table. Its triggers and first fill were made here
before the facts carried the task's category; 0006 drops those and makes the current ones."""

import django.db.models.deletion
from django.db import migrations, models

from rectify.dashboard import facts


def forwards(apps, schema_editor):
    pass  # the triggers and the fill: 0006_board_fact_category


def backwards(apps, schema_editor):
    facts.drop_triggers(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0002_instructions'),
        ('ledger', '0014_task_keyword_index'),
        ('orgs', '0007_unit_county'),
    ]

    operations = [
        migrations.CreateModel(
            name='BoardFact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.PositiveSmallIntegerField(choices=[(1, '县市区'), (2, '牵头督导单位')])),
                ('status', models.CharField(blank=True, max_length=20)),
                ('task', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='ledger.task')),
                ('unit', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='orgs.unit')),
            ],
            options={
                'indexes': [models.Index(fields=['kind', 'unit', 'status'], name='boardfact_kind_unit_status')],
                'constraints': [models.UniqueConstraint(fields=('task', 'kind', 'unit'), name='boardfact_task_kind_unit')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
