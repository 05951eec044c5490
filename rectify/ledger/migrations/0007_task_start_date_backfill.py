"""A task's schedule (序时进度) starts at its own start date, which a task now gets the day it leaves
draft instead of falling back to its campaign's feedback date when the status is computed.

Backfill: a task out of draft without a start date gets the (local) day it was entered, the
nearest the record has to the day it left draft. Start dates already stored are kept: the old
default (the campaign's feedback date) cannot be told from a date someone typed, and for a task
entered with its campaign it is the right one; the office corrects the others in the form or
with the Excel column 开始日期. Drafts keep none and get one when they leave draft.
"""

import zoneinfo

from django.conf import settings
from django.db import migrations
from django.db.models.functions import TruncDate


def backfill(apps, schema_editor):
    Task = apps.get_model("ledger", "Task")
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    (Task.objects.filter(start_date__isnull=True).exclude(status="draft")
     .update(start_date=TruncDate("created_at", tzinfo=tz)))


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_list_indexes"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
