"""Record the business keys of instances started before the ledger existed, so search finds them."""

from django.db import migrations


def record_business_keys(apps, schema_editor):
    ProcessInstance = apps.get_model("engine", "ProcessInstance")
    ExternalId = apps.get_model("integrations", "ExternalId")
    rows = (
        ExternalId(instance_id=pk, kind="business_key", value=key.strip(), value_normalized=key.strip().upper())
        for pk, key in ProcessInstance.objects.exclude(business_key="").values_list("pk", "business_key").iterator()
        if key.strip()
    )
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 1000:
            ExternalId.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    ExternalId.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(record_business_keys, migrations.RunPython.noop),
    ]
