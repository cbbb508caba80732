from django.db import migrations, models


def keep_the_first_verification(apps, schema_editor):
    """Before the constraint: a domain verified by several organizations stays verified
    for the first one only (the later verifications go back to pending)."""
    VerifiedDomain = apps.get_model("sso", "VerifiedDomain")
    seen = set()
    for record in VerifiedDomain.objects.filter(verified_at__isnull=False).order_by("verified_at", "pk"):
        if record.domain in seen:
            VerifiedDomain.objects.filter(pk=record.pk).update(verified_at=None)
        seen.add(record.domain)


class Migration(migrations.Migration):

    dependencies = [
        ("sso", "0004_identity_subject"),
    ]

    operations = [
        migrations.RunPython(keep_the_first_verification, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="verifieddomain",
            constraint=models.UniqueConstraint(condition=models.Q(("verified_at__isnull", False)), fields=("domain",),
                                               name="sso_domain_verified_once"),
        ),
    ]
