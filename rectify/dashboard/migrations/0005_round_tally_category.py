"""Round tallies per task category (rectify.dashboard.facts): a leader's sectors are whole
categories, summed from these rows instead of counting every snapshot of their tasks. The triggers
of 0004 (if a database has them) are dropped, the column and key changed, and the triggers made
again with the category, then the table filled from the snapshots."""

from django.db import migrations, models

from rectify.dashboard import facts


def drop(apps, schema_editor):
    facts.drop_tally_triggers(schema_editor)


def create(apps, schema_editor):
    facts.create_tally_triggers(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0004_round_tally'),
        ('ledger', '0015_campaign_picker_order_index'),
    ]

    operations = [
        migrations.RunPython(drop, migrations.RunPython.noop),  # back to 0004: no triggers (0004's own are gone)
        migrations.RemoveConstraint(model_name='roundtally', name='roundtally_round_status'),
        migrations.AddField(model_name='roundtally', name='category',
                            field=models.CharField(blank=True, default='', max_length=30)),
        migrations.AddConstraint(
            model_name='roundtally',
            constraint=models.UniqueConstraint(fields=('round', 'category', 'status'),
                                               name='roundtally_round_category_status'),
        ),
        migrations.RunPython(create, drop),
    ]
