"""Round tallies (rectify.dashboard.facts): the table, the triggers on the status snapshots that keep
it, and its first fill."""

import django.db.models.deletion
from django.db import migrations, models

from rectify.dashboard import facts


def forwards(apps, schema_editor):
    facts.create_tally_triggers(schema_editor)


def backwards(apps, schema_editor):
    facts.drop_tally_triggers(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0003_board_facts'),
        ('dispatch', '0001_initial'),
        ('supervision', '0004_reply_files'),
    ]

    operations = [
        migrations.CreateModel(
            name='RoundTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(blank=True, max_length=20)),
                ('n', models.PositiveIntegerField()),
                ('round', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='dispatch.dispatchround')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('round', 'status'), name='roundtally_round_status')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
