"""Seed the SLA's recurring windows (US daily 06:00–07:00 UTC, EU daily 01:00–02:00 UTC), so every install has them."""

from datetime import UTC, datetime, time, timedelta

from django.db import migrations

# In force since before the portal existed: the SLA has always named these windows.
SEED_FROM = datetime(2020, 1, 1, tzinfo=UTC)
SEEDED = (
    ("US", "US daily maintenance", time(6, 0)),
    ("EU", "EU daily maintenance", time(1, 0)),
)


def seed_region_windows(apps, schema_editor):
    RecurringWindow = apps.get_model("maintenance", "RecurringWindow")
    for region, name, start_time in SEEDED:
        # Idempotent: a region that already has its SLA window (seeded or made by hand) is left alone.
        if not RecurringWindow.objects.filter(region=region, start_time=start_time).exists():
            RecurringWindow.objects.create(
                name=name,
                region=region,
                start_time=start_time,
                duration=timedelta(hours=1),
                weekdays=[],
                active_from=SEED_FROM,
            )


class Migration(migrations.Migration):
    dependencies = [("maintenance", "0001_windows_and_notices")]

    operations = [migrations.RunPython(seed_region_windows, migrations.RunPython.noop)]
