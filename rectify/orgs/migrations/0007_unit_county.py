import django.db.models.deletion
from django.db import migrations, models


def fill_counties(apps, schema_editor):
    """所属县市区 of every existing unit: the nearest county-level unit on its materialised path."""
    Unit = apps.get_model("orgs", "Unit")
    rows = list(Unit.objects.values_list("pk", "path", "kind"))
    counties = {pk for pk, _, kind in rows if kind == "county"}
    for pk, path, _ in rows:
        nearest = next((int(p) for p in reversed(path.rstrip(".").split(".")) if p and int(p) in counties), None)
        if nearest is not None:
            Unit.objects.filter(pk=pk).update(county_id=nearest)


class Migration(migrations.Migration):

    dependencies = [
        ('orgs', '0006_second_factor_sessions_token_expiry'),
    ]

    operations = [
        migrations.AddField(
            model_name='unit',
            name='county',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='orgs.unit'),
        ),
        migrations.RunPython(fill_counties, migrations.RunPython.noop),
    ]
