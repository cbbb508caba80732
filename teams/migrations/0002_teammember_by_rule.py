from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="teammember",
            name="by_rule",
            field=models.BooleanField(db_default=False, default=False),
        ),
    ]
