"""The number of tasks of each campaign (ledger.CampaignTally), kept by triggers on the tasks
(rectify.ledger.tally) and counted once here from the tasks already in the ledger."""

import django.db.models.deletion
from django.db import migrations, models

from rectify.ledger import tally


def forwards(apps, schema_editor):
    tally.create_triggers(schema_editor)


def backwards(apps, schema_editor):
    tally.drop_triggers(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0019_colour_and_deadline_counts_index_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignTally",
            fields=[
                ("campaign", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                  related_name="+", serialize=False, to="ledger.campaign")),
                ("tasks", models.IntegerField(default=0)),
            ],
            options={"verbose_name": "批次任务数", "verbose_name_plural": "批次任务数"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
