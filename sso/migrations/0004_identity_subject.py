from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sso", "0003_session_lifetime_sessions_sp_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="ssoconnection",
            name="subject_attribute",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="ssoidentity",
            name="name_id_format",
            field=models.CharField(blank=True, max_length=256),
        ),
    ]
