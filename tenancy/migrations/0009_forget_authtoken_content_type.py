"""Forget DRF's `authtoken` among the content types. 0007 dropped its table, but its content type stayed, and with it
four permissions that the admin still offered for groups and users ("authtoken | Token | Can add Token").
"""

from typing import Any

from django.db import migrations


def forget_authtoken(apps: Any, schema_editor: Any) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    # The delete takes the permissions with it (and their grants to groups and users); admin log entries keep their
    # text and lose only the link.
    content_type.objects.using(schema_editor.connection.alias).filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0008_membership_invitation_owed"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(forget_authtoken, migrations.RunPython.noop),
    ]
