"""DS4's switch lives on the SSO connection (copied there by 0007): the directory's own
copies go. Reversing re-adds them with their defaults, and 0007's reverse copies the
connection's values back."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scim", "0007_role_switch_on_sso_connection"),
    ]

    operations = [
        migrations.RemoveField(model_name="directory", name="manage_roles_via_idp"),
        migrations.RemoveField(model_name="directory", name="role_attribute"),
    ]
