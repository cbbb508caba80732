"""DS4's switch moves to Settings › Authentication: "Manage roles through identity
provider" and its attribute name are now the SSO connection's (they apply to SAML
sign-ins too). Copies each directory's setting onto its organization's connection; the
directory's own fields go in the next migration."""
from django.db import migrations


def to_connection(apps, schema_editor):
    Directory = apps.get_model("scim", "Directory")
    SSOConnection = apps.get_model("sso", "SSOConnection")
    for directory in Directory.objects.filter(manage_roles_via_idp=True):
        SSOConnection.objects.filter(org_id=directory.org_id).update(
            manage_roles_via_idp=True, role_attribute=directory.role_attribute)


def to_directory(apps, schema_editor):
    Directory = apps.get_model("scim", "Directory")
    SSOConnection = apps.get_model("sso", "SSOConnection")
    for connection in SSOConnection.objects.filter(manage_roles_via_idp=True):
        Directory.objects.filter(org_id=connection.org_id).update(
            manage_roles_via_idp=True, role_attribute=connection.role_attribute)


class Migration(migrations.Migration):
    dependencies = [
        ("scim", "0006_directoryuser_email_change_pending"),
        ("sso", "0008_roles_groups_and_group_rules"),
    ]

    operations = [
        migrations.RunPython(to_connection, to_directory),
    ]
