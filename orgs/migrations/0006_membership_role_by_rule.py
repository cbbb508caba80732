from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orgs", "0005_membership_database_admin_by_rule")]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="role_by_rule",
            field=models.BooleanField(db_default=False, default=False),
        ),
    ]
