"""Round tallies (rectify.dashboard.facts): the table. Its triggers and first fill were made here
before the tallies were kept per category; 0005 drops those and makes the current ones."""

import django.db.models.deletion
from django.db import migrations, models

from rectify.dashboard import facts


def forwards(apps, schema_editor):
    pass  # the triggers and the fill: 0005_round_tally_category


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
