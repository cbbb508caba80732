"""Accounts record when their address was verified and whether they are claimed. Rule ids: docs/rules.md."""
from django.db import migrations, models
from django.db.models import F


def existing_accounts_are_verified(apps, schema_editor):
    """Accounts made before E14 keep working as they did: their addresses count as
    verified from when they joined (they could sign in and be tied before)."""
    User = apps.get_model("accounts", "User")
    User.objects.filter(email_verified_at__isnull=True).update(email_verified_at=F("date_joined"))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_verified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="claimed",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(existing_accounts_are_verified, migrations.RunPython.noop),
    ]
