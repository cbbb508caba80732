"""DirectoryUser.created_account, and a backfill of it and of Membership.owner_unconfirmed
for the directory users that exist already (§7, hostile IdP).

Rows made before this migration recorded neither fact, so it is inferred: the directory
created the account when the account has no usable password and was made within seconds
before the directory user (the same request). An account the directory did not create
whose directory-managed membership was made after the directory user (not a membership
it took over) was attached without its owner's agreement. Memberships already released
by a Directory Sync disable have no directory user left and are not inferred.

Rule ids: docs/rules.md.
"""
from datetime import timedelta

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations, models

SAME_REQUEST = timedelta(seconds=5)


def backfill(apps, schema_editor):
    DirectoryUser = apps.get_model("scim", "DirectoryUser")
    Membership = apps.get_model("orgs", "Membership")
    created, unconfirmed = [], []
    rows = (DirectoryUser.objects.filter(user__isnull=False).select_related("user", "membership")
            .only("pk", "created_at", "user__password", "user__date_joined", "membership__created_at",
                  "membership__directory_managed").iterator(chunk_size=2000))
    for row in rows:
        made_by_directory = (row.user.password.startswith(UNUSABLE_PASSWORD_PREFIX)
                             and row.created_at - SAME_REQUEST <= row.user.date_joined <= row.created_at)
        if made_by_directory:
            created.append(row.pk)
        elif (row.membership is not None and row.membership.directory_managed
              and row.membership.created_at >= row.created_at - SAME_REQUEST):
            unconfirmed.append(row.membership.pk)
    for start in range(0, len(created), 1000):
        DirectoryUser.objects.filter(pk__in=created[start:start + 1000]).update(created_account=True)
    for start in range(0, len(unconfirmed), 1000):
        Membership.objects.filter(pk__in=unconfirmed[start:start + 1000]).update(owner_unconfirmed=True)


class Migration(migrations.Migration):

    dependencies = [
        ("scim", "0002_directoryuser_user_optional"),
        ("orgs", "0002_membership_owner_unconfirmed_role_changed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="directoryuser",
            name="created_account",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
