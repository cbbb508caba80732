from orgs.models import AuditEvent, Membership


def test_world_builds(org, member, other_org):
    assert Membership.objects.filter(org=org).count() == 2
    assert AuditEvent.objects.filter(org=org, event="member.added").count() == 2
    assert not Membership.objects.filter(org=other_org, user=member.user).exists()
