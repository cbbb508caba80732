"""SCIM filters → Django Q objects, scoped by the caller to one organization in SQL.

scim2-filter-parser lexes and parses the filter (RFC 7644 §3.4.2.2); the tree is
turned into a Q here rather than by the library's transpilers, because those drop
attributes they do not know (a filter on an unknown attribute would then match
everything) and produce SQL over every tenant. An attribute or operator we do not
support is a 400 invalidFilter, never a silent widening.
"""
from enum import StrEnum

from django.db.models import Q
from scim2_filter_parser import ast as scim_ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from .errors import bad_request

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_FILTER_LENGTH = 2000


class Kind(StrEnum):
    """How a filterable attribute's field compares."""

    CI = "ci"  # case-insensitive string, stored lowercased
    CI_EXACT = "ci_exact"  # case-insensitive string, stored as sent
    CS = "cs"  # case-exact string
    BOOL = "bool"
    ID = "id"


# (attribute, sub-attribute) → (model field, kind).
USER_ATTRIBUTES = {
    ("username", None): ("user_name", Kind.CI),
    ("externalid", None): ("external_id", Kind.CS),
    ("id", None): ("pk", Kind.ID),
    ("emails", "value"): ("email", Kind.CI),
    ("emails", None): ("email", Kind.CI),
    ("displayname", None): ("display_name", Kind.CI_EXACT),
    ("name", "givenname"): ("given_name", Kind.CS),
    ("name", "familyname"): ("family_name", Kind.CS),
    ("active", None): ("active", Kind.BOOL),
}
GROUP_ATTRIBUTES = {
    ("displayname", None): ("display_name", Kind.CI_EXACT),
    ("externalid", None): ("external_id", Kind.CS),
    ("id", None): ("pk", Kind.ID),
    ("members", "value"): ("members__directory_user_id", Kind.ID),
    ("members", None): ("members__directory_user_id", Kind.ID),
}

_STRING_OPS = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith"}
_MAX_DEPTH = 20


def _invalid(detail: str):
    return bad_request(detail, "invalidFilter")


class _Builder:
    def __init__(self, attributes: dict, urn: str):
        self.attributes = attributes
        self.urn = urn.lower()

    def build(self, node, depth=0):
        if depth > _MAX_DEPTH:
            raise _invalid("The filter is nested too deeply.")
        if isinstance(node, scim_ast.Filter):
            if node.namespace is not None:
                # `emails[type eq "work"]` and `members[value eq "x"]` as a whole filter.
                return self._value_path(node.namespace, node.expr, None, depth)
            query = self.build(node.expr, depth + 1)
            return ~query if node.negated else query
        if isinstance(node, scim_ast.LogExpr):
            left, right = self.build(node.expr1, depth + 1), self.build(node.expr2, depth + 1)
            return (left & right) if node.op.lower() == "and" else (left | right)
        if isinstance(node, scim_ast.AttrExpr):
            path = node.attr_path
            if isinstance(path.attr_name, scim_ast.Filter):
                # emails[type eq "work"].value eq "x": the bracket filter narrows the sub-attribute.
                inner = path.attr_name
                return self._value_path(inner.namespace, inner.expr, node, depth)
            return self._compare(path, node.value.lower(), node.comp_value.value if node.comp_value else None)
        raise _invalid("This filter is not supported.")

    def _field(self, path):
        uri = (path.uri or "").lower().rstrip(":")
        if uri and uri != self.urn:
            raise _invalid(f"Filtering on “{path.uri}” attributes is not supported.")
        sub = path.sub_attr.value.lower() if path.sub_attr is not None else None
        key = (str(path.attr_name).lower(), sub)
        if key not in self.attributes:
            name = path.attr_name + (f".{path.sub_attr.value}" if path.sub_attr is not None else "")
            raise _invalid(f"Filtering on “{name}” is not supported.")
        return self.attributes[key]

    def _compare(self, path, op, value):
        field, kind = self._field(path)
        if op == "pr":
            if kind in (Kind.BOOL, Kind.ID):
                return Q(**{f"{field}__isnull": False})
            return ~Q(**{field: ""})
        if value is None:
            raise _invalid("A comparison needs a value.")
        if kind == Kind.BOOL:
            if op not in ("eq", "ne") or str(value).lower() not in ("true", "false"):
                raise _invalid("Boolean attributes support eq and ne with true or false.")
            query = Q(**{field: str(value).lower() == "true"})
            return ~query if op == "ne" else query
        if kind == Kind.ID:
            if op not in ("eq", "ne"):
                raise _invalid("Identifiers support eq and ne only.")
            try:
                ident = int(str(value))
            except ValueError:
                query = Q(pk__in=[])  # an id that cannot exist matches nothing
            else:
                query = Q(**{field: ident}) if 0 < ident < 2**63 else Q(pk__in=[])
            return ~query if op == "ne" else query
        value = str(value)
        if op == "ne":
            return ~self._string(field, kind, "eq", value)
        if op not in _STRING_OPS:
            raise _invalid(f"The operator “{op}” is not supported on this attribute.")
        return self._string(field, kind, op, value)

    @staticmethod
    def _string(field, kind, op, value):
        lookup = _STRING_OPS[op]
        if kind == Kind.CI:
            # Stored lowercased: an exact, index-friendly comparison.
            return Q(**{f"{field}__{lookup}": value.lower()})
        if kind == Kind.CI_EXACT:
            return Q(**{f"{field}__i{lookup}": value})
        return Q(**{f"{field}__{lookup}": value})

    def _value_path(self, namespace, inner, outer, depth):
        """`attr[inner]` alone, or `attr[inner].sub op value`."""
        attr = str(namespace.attr_name).lower()
        if attr == "emails":
            # We keep one searchable address; `type` and `primary` narrow nothing further.
            self._check_inner(inner, {"type", "primary", "value"})
            value_query = self._inner_values(inner, "emails")
            if outer is None:
                return value_query if value_query is not None else Q(~Q(email=""))
            sub = namespace.sub_attr.value.lower() if namespace.sub_attr is not None else "value"
            if sub != "value":
                raise _invalid("Only emails[...].value can be compared.")
            path = scim_ast.AttrPath("emails", scim_ast.SubAttr("value"), None)
            query = self._compare(path, outer.value.lower(), outer.comp_value.value if outer.comp_value else None)
            return query if value_query is None else query & value_query
        if attr == "members" and outer is None:
            return self.build(_rename_attr(inner, "members"), depth + 1)
        raise _invalid(f"Filtering on “{namespace.attr_name}[...]” is not supported.")

    def _check_inner(self, node, allowed):
        if isinstance(node, scim_ast.Filter):
            return self._check_inner(node.expr, allowed)
        if isinstance(node, scim_ast.LogExpr):
            self._check_inner(node.expr1, allowed)
            return self._check_inner(node.expr2, allowed)
        if isinstance(node, scim_ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
            if node.attr_path.attr_name.lower() not in allowed:
                raise _invalid(f"Filtering on “{node.attr_path.attr_name}” inside brackets is not supported.")
            return None
        raise _invalid("This filter is not supported.")

    def _inner_values(self, node, attr):
        """The `value` comparisons inside `emails[...]`, as a Q; None when there are none."""
        if isinstance(node, scim_ast.Filter):
            query = self._inner_values(node.expr, attr)
            return ~query if (query is not None and node.negated) else query
        if isinstance(node, scim_ast.LogExpr):
            left, right = self._inner_values(node.expr1, attr), self._inner_values(node.expr2, attr)
            if left is None or right is None:
                return left if right is None else right
            return (left & right) if node.op.lower() == "and" else (left | right)
        if node.attr_path.attr_name.lower() == "value":
            path = scim_ast.AttrPath(attr, scim_ast.SubAttr("value"), None)
            return self._compare(path, node.value.lower(), node.comp_value.value if node.comp_value else None)
        return None


def _rename_attr(node, parent):
    """Inside `members[value eq "x"]`, `value` means `members.value`."""
    if isinstance(node, scim_ast.Filter):
        return scim_ast.Filter(_rename_attr(node.expr, parent), node.negated, None)
    if isinstance(node, scim_ast.LogExpr):
        return scim_ast.LogExpr(node.op, _rename_attr(node.expr1, parent), _rename_attr(node.expr2, parent))
    if isinstance(node, scim_ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
        path = scim_ast.AttrPath(parent, scim_ast.SubAttr(node.attr_path.attr_name), None)
        return scim_ast.AttrExpr(node.value, path, node.comp_value)
    raise _invalid("This filter is not supported.")


def parse_filter(text: str):
    if len(text) > MAX_FILTER_LENGTH:
        raise _invalid("The filter is too long.")
    try:
        return SCIMParser().parse(SCIMLexer().tokenize(text))
    except Exception:  # the parser raises its own errors and assorted ones on garbage
        raise _invalid("The filter could not be parsed.") from None


def user_filter(text: str) -> Q:
    return _Builder(USER_ATTRIBUTES, USER_URN).build(parse_filter(text))


def user_name_equals(text: str) -> str | None:
    """The value that `text` compares userName with, lowercased as user_filter compares it,
    when `text` is exactly one `userName eq "<string>"` (Okta's and Entra's lookup before
    each create; the core schema's URN allowed); otherwise None, and user_filter decides."""
    node = parse_filter(text)
    if not isinstance(node, scim_ast.Filter) or node.namespace is not None or node.negated:
        return None
    expr = node.expr
    if not isinstance(expr, scim_ast.AttrExpr) or expr.value.lower() != "eq" or expr.comp_value is None:
        return None
    path, value = expr.attr_path, expr.comp_value.value
    if (isinstance(path.attr_name, scim_ast.Filter) or path.sub_attr is not None or value is None
            or str(path.attr_name).lower() != "username"
            or (path.uri or "").lower().rstrip(":") not in ("", USER_URN.lower())):
        return None
    return str(value).lower()  # as user_filter's _compare and _string make it


def group_filter(text: str) -> Q:
    return _Builder(GROUP_ATTRIBUTES, GROUP_URN).build(parse_filter(text))
