"""Two filters' counts from their index alone on PostgreSQL, where a scope's condition names the
task's campaign and id (an office's campaigns and units):

- the warning colour filter's index ends in the id, as the other filters' indexes do: without it,
  PostgreSQL read every task of that colour from the table (27,000 red of 100,000 tasks: 28 ms);
- the deadline index (the sort by deadline and the 整改时限 range) ends in the campaign: without it,
  a year's range (20,000 of 100,000 tasks) was counted by reading the whole category index (26 ms).

On SQLite the id is the rowid, in every index; the indexes get statistics where the others have
them (core.dbstats)."""

from django.db import migrations, models

from rectify.core.dbstats import analyse_new_index


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0018_keyword_index_delete_trigger"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="task", name="task_colour_idx"),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["warning_colour", "campaign", "id"], name="task_colour_idx"),
        ),
        migrations.RemoveIndex(model_name="task", name="task_deadline_idx"),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["deadline", "code", "id", "campaign"], name="task_deadline_idx"),
        ),
        migrations.RunPython(analyse_new_index("task_colour_idx"), migrations.RunPython.noop),
        migrations.RunPython(analyse_new_index("task_deadline_idx"), migrations.RunPython.noop),
    ]
