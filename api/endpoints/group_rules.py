"""Group rules of the JSON API (issue 12 item 3): list, create, read, change, remove, and the
preview of a proposed change (sso.group_rules). Administrators write and preview, members
read, other organizations get 404, as for the other SSO endpoints (E10)."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from sso import group_rules
from sso.models import GroupRule
from sso.selectors import group_rule_get, group_rule_list

from ..serializers import StrictSerializer
from ..views import OrgScopedAPIView, error_responses

TAGS = ["sso"]
ID_MAX = 2**63 - 1


class GroupRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group_name = serializers.CharField(help_text="The IdP group: a SCIM group's display name under Directory Sync, "
                                                 "else a value of the SAML groups attribute (compared without case).")
    role = serializers.ChoiceField(choices=GroupRule.Role.choices, help_text="Empty: the rule gives no role.")
    database_admin = serializers.BooleanField()
    team_id = serializers.IntegerField(allow_null=True)
    team_name = serializers.CharField(allow_null=True, source="team.name", default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GroupRuleWriteSerializer(StrictSerializer):
    group_name = serializers.CharField(max_length=255)
    role = serializers.ChoiceField(choices=GroupRule.Role.choices, required=False, help_text="Empty: no role.")
    database_admin = serializers.BooleanField(required=False)
    team_id = serializers.IntegerField(allow_null=True, required=False, min_value=1, max_value=ID_MAX,
                                       help_text="A team of this organization that does not mirror a directory "
                                                 "group; none while Directory Sync is on.")


class GroupRulePreviewRequestSerializer(GroupRuleWriteSerializer):
    rule_id = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX,
                                       help_text="The rule to change or remove; absent: a new rule.")
    remove = serializers.BooleanField(required=False, default=False, help_text="Preview removing `rule_id`.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_name"].required = False

    def validate(self, attrs):
        if "rule_id" not in attrs:
            if attrs.get("remove"):
                raise serializers.ValidationError({"rule_id": ["Name the rule to remove."]})
            if "group_name" not in attrs:
                raise serializers.ValidationError({"group_name": ["A new rule needs a group name."]})
        return attrs


class GroupRuleChangeSerializer(serializers.Serializer):
    member = serializers.IntegerField(help_text="The membership id.")
    email = serializers.EmailField()
    role = serializers.ListField(child=serializers.CharField(), allow_null=True, min_length=2, max_length=2,
                                 help_text="[old, new], or null when the role stays.")
    role_kept = serializers.ListField(child=serializers.CharField(), allow_null=True, min_length=2, max_length=2,
                                      help_text="[role, asked]: the last administrator keeps the role.")
    database_admin = serializers.ListField(child=serializers.BooleanField(), allow_null=True, min_length=2,
                                           max_length=2, help_text="[old, new], or null when it stays.")
    teams_added = serializers.ListField(child=serializers.CharField())
    teams_removed = serializers.ListField(child=serializers.CharField())


class GroupRulePreviewSerializer(serializers.Serializer):
    changes = GroupRuleChangeSerializer(many=True, help_text="The members whose role, grant or teams would change.")


def _rule_response(org, rule_id, status_code=status.HTTP_200_OK) -> Response:
    return Response(GroupRuleSerializer(group_rule_get(org=org, rule_id=rule_id)).data, status=status_code)


class GroupRuleListView(OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="List group rules",
                   responses={200: GroupRuleSerializer(many=True), **error_responses(404)})
    def get(self, request, org_slug):
        return self.page(group_rule_list(org=self.org), GroupRuleSerializer)

    @extend_schema(tags=TAGS, summary="Create a group rule (applied at once to everyone whose groups are known)",
                   request=GroupRuleWriteSerializer,
                   responses={201: GroupRuleSerializer, **error_responses(400, 403, 404, 409, 413)})
    def post(self, request, org_slug):
        rule = group_rules.group_rule_create(org=self.org, actor=self.actor,
                                             **self.validated(GroupRuleWriteSerializer))
        return _rule_response(self.org, rule.pk, status.HTTP_201_CREATED)


class GroupRuleDetailView(OrgScopedAPIView):
    def rule_or_404(self, rule_id) -> GroupRule:
        return self.get_or_404(group_rule_get(org=self.org, rule_id=rule_id), "No such group rule.")

    @extend_schema(tags=TAGS, summary="One group rule", responses={200: GroupRuleSerializer, **error_responses(404)})
    def get(self, request, org_slug, rule_id):
        return Response(GroupRuleSerializer(self.rule_or_404(rule_id)).data)

    @extend_schema(tags=TAGS, summary="Change a group rule (applied at once)", request=GroupRuleWriteSerializer,
                   responses={200: GroupRuleSerializer, **error_responses(400, 403, 404, 409, 413)})
    def patch(self, request, org_slug, rule_id):
        rule = self.rule_or_404(rule_id)
        values = self.validated(GroupRuleWriteSerializer, partial=True)
        group_rules.group_rule_update(org=self.org, actor=self.actor, rule_id=rule.pk, **values)
        return _rule_response(self.org, rule.pk)

    @extend_schema(tags=TAGS, summary="Remove a group rule (the grants and teams it gave go with it)",
                   responses={204: None, **error_responses(403, 404, 409)})
    def delete(self, request, org_slug, rule_id):
        rule = self.rule_or_404(rule_id)
        group_rules.group_rule_remove(org=self.org, actor=self.actor, rule_id=rule.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupRulePreviewView(OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="What a proposed group rule change would do (writes nothing)",
                   description="The body is the change: the fields of a new rule; or `rule_id` with the fields "
                               "to change; or `rule_id` with `remove: true`.",
                   request=GroupRulePreviewRequestSerializer,
                   responses={200: GroupRulePreviewSerializer, **error_responses(400, 403, 404, 409, 413)})
    def post(self, request, org_slug):
        change = dict(self.validated(GroupRulePreviewRequestSerializer))
        rules = group_rules.proposed_rules(org=self.org, rule_id=change.pop("rule_id", None),
                                           remove=change.pop("remove", False), **change)
        changes = group_rules.group_rules_preview(org=self.org, rules=rules)
        return Response(GroupRulePreviewSerializer({"changes": changes}).data)
