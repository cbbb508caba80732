from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orgs", "0004_alter_invitation_revoke_reason")]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="database_admin_by_rule",
            field=models.BooleanField(db_default=False, default=False),
        ),
    ]
