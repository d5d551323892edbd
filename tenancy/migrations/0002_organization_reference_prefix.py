import re

import django.core.validators
from django.db import migrations, models


def fill_reference_prefixes(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    taken = set()
    for organization in Organization.objects.order_by("pk"):
        base = "-".join(part for part in re.split(r"[^A-Z0-9]+", organization.slug.upper()) if part)[:12] or "ORG"
        prefix, suffix = base, 2
        while prefix in taken:
            prefix, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(prefix)
        organization.reference_prefix = prefix
        organization.save(update_fields=["reference_prefix"])


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="reference_prefix",
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.RunPython(fill_reference_prefixes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="organization",
            name="reference_prefix",
            field=models.CharField(
                help_text="Starts every ticket reference of the organization, as in ACME-42.",
                max_length=16,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z0-9]+(-[A-Z0-9]+)*$", "Use capitals, digits and single hyphens, like ACME or ACME-EU."
                    )
                ],
            ),
        ),
    ]
