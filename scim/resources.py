"""SCIM documents in and out: turning a User or Group body into validated fields,
applying PATCH operations to a document, rendering resources, and trimming them
to `attributes`/`excludedAttributes`. Pure functions: no database access here.
"""
import copy
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from scim2_filter_parser import ast as scim_ast

from .errors import ScimError, bad_request
from .filters import parse_filter
from .schemas import GROUP_URN, ROLE_VALUES, USER_URN

# Attributes the server owns: ignored in POST/PUT bodies, refused as PATCH targets.
READ_ONLY = {"id", "meta", "groups"}
# Never kept: passwords in Okta's POST bodies are dropped unhashed.
DISCARDED = {"password"}
MAX_STRING = 254


def _string(value, name, *, required=False, max_length=MAX_STRING) -> str:
    if value is None:
        if required:
            raise bad_request(f"“{name}” is required.", "invalidValue")
        return ""
    if not isinstance(value, str):
        raise bad_request(f"“{name}” must be a string.", "invalidValue")
    value = value.strip()
    if required and not value:
        raise bad_request(f"“{name}” is required.", "invalidValue")
    if len(value) > max_length:
        raise bad_request(f"“{name}” is longer than {max_length} characters.", "invalidValue")
    return value


def parse_bool(value, name) -> bool:
    """Entra sends booleans as the strings "True" and "False"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise bad_request(f"“{name}” must be true or false.", "invalidValue")


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _ci_get(mapping: dict, name: str):
    """Attribute names are case-insensitive (RFC 7643 §2.1)."""
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _ci_key(mapping: dict, name: str) -> str:
    lowered = name.lower()
    for key in mapping:
        if isinstance(key, str) and key.lower() == lowered:
            return key
    return name


def _check_schemas(doc: dict, expected: str):
    schemas = doc.get("schemas")
    if schemas is None:
        return
    if not isinstance(schemas, list) or not all(isinstance(item, str) for item in schemas):
        raise bad_request("“schemas” must be a list of URNs.", "invalidSyntax")
    if schemas and expected.lower() not in {item.lower() for item in schemas}:
        raise bad_request(f"“schemas” must include {expected}.", "invalidSyntax")


# Users -----------------------------------------------------------------------


@dataclass
class UserFields:
    user_name: str  # lowercased
    email: str  # the account's email, lowercased; "" when none was sent
    external_id: str = ""
    given_name: str = ""
    family_name: str = ""
    display_name: str = ""
    emails: list = field(default_factory=list)
    active: bool = True
    role: str = ""  # "" when the IdP sent none
    raw: dict = field(default_factory=dict)

    @property
    def search_email(self) -> str:
        """The work (or primary, or first) address of `emails`, lowercased, that
        `emails[type eq "work"].value` filters find the directory user by."""
        for item in self.emails:
            if str(_ci_get(item, "type") or "").lower() == "work" and _ci_get(item, "value"):
                return str(_ci_get(item, "value")).lower()[:254]
        for item in self.emails:
            if _ci_get(item, "primary") in (True, "True", "true") and _ci_get(item, "value"):
                return str(_ci_get(item, "value")).lower()[:254]
        for item in self.emails:
            if _ci_get(item, "value"):
                return str(_ci_get(item, "value")).lower()[:254]
        return ""


def _normalize_core_urn_keys(doc: dict) -> dict:
    """`urn:…:core:2.0:User:userName` as a key means `userName`; the core schema's
    URN as a key holding an object means its attributes at the top level."""
    result = {}
    for key, value in doc.items():
        if not isinstance(key, str):
            raise bad_request("Attribute names must be strings.", "invalidSyntax")
        lowered = key.lower()
        if lowered == USER_URN.lower() and isinstance(value, dict):
            result.update(value)
        elif lowered.startswith(USER_URN.lower() + ":"):
            result[key[len(USER_URN) + 1:]] = value
        else:
            result[key] = value
    return result


def _role_from(doc: dict, role_attribute: str) -> str:
    roles = []
    direct = _ci_get(doc, role_attribute)
    if direct not in (None, ""):
        if not isinstance(direct, str):
            raise bad_request(f"“{role_attribute}” must be a string: member or admin.", "invalidValue")
        roles.append(direct)
    listed = _ci_get(doc, "roles")
    if listed is not None:
        if not isinstance(listed, list):
            raise bad_request("“roles” must be a list.", "invalidValue")
        for item in listed:
            value = _ci_get(item, "value") if isinstance(item, dict) else item
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                raise bad_request("A role value must be a string: member or admin.", "invalidValue")
            roles.append(value)
    normalized = []
    for value in roles:
        value = value.strip().lower()
        if value not in ROLE_VALUES:
            raise bad_request(f"Unknown role “{value}”; use “member” or “admin”.", "invalidValue")
        normalized.append(value)
    if direct not in (None, ""):
        return normalized[0]  # the named attribute wins over the roles list
    if "admin" in normalized:
        return "admin"
    return normalized[0] if normalized else ""


def parse_user(body, *, role_attribute: str) -> UserFields:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", "invalidSyntax")
    _check_schemas(body, USER_URN)
    doc = _normalize_core_urn_keys(body)
    user_name = _string(_ci_get(doc, "userName"), "userName", required=True)
    external_id = _string(_ci_get(doc, "externalId"), "externalId", max_length=255)
    display_name = _string(_ci_get(doc, "displayName"), "displayName")
    name = _ci_get(doc, "name")
    if name is None:
        name = {}
    if not isinstance(name, dict):
        raise bad_request("“name” must be an object.", "invalidValue")
    given_name = _string(_ci_get(name, "givenName"), "name.givenName", max_length=150)
    family_name = _string(_ci_get(name, "familyName"), "name.familyName", max_length=150)
    _string(_ci_get(name, "formatted"), "name.formatted")
    active_value = _ci_get(doc, "active")
    active = True if active_value is None else parse_bool(active_value, "active")
    emails = _ci_get(doc, "emails")
    if emails is None:
        emails = []
    if not isinstance(emails, list) or not all(isinstance(item, dict) for item in emails):
        raise bad_request("“emails” must be a list of objects.", "invalidValue")
    addresses = []
    for item in emails:
        value = _string(_ci_get(item, "value"), "emails.value")
        kind = _string(_ci_get(item, "type"), "emails.type")
        primary = _ci_get(item, "primary")
        primary = False if primary is None else parse_bool(primary, "emails.primary")
        if value:
            addresses.append((value.lower(), kind.lower(), primary))
    search_email = next((a for a, k, _ in addresses if k == "work"), None) or next(
        (a for a, _, p in addresses if p), None) or (addresses[0][0] if addresses else "")
    # The userName is the email; an IdP that sends another userName names the email in
    # `emails`. With neither, the directory user waits for an email to get an account.
    if _is_email(user_name):
        account_email = user_name.lower()
    elif search_email and _is_email(search_email):
        account_email = search_email
    else:
        account_email = ""
    role = _role_from(doc, role_attribute)
    raw = {k: copy.deepcopy(v) for k, v in doc.items()
           if k.lower() not in DISCARDED and k.lower() not in READ_ONLY and k != "schemas"}
    extension_keys = [k for k in raw if k.lower().startswith("urn:")]
    for key in extension_keys:
        if not isinstance(raw[key], dict):
            raise bad_request(f"“{key}” must be an object.", "invalidValue")
    return UserFields(
        user_name=user_name.lower(), email=account_email, external_id=external_id, given_name=given_name,
        family_name=family_name, display_name=display_name, emails=emails, active=active, role=role, raw=raw,
    )


def _location(base_path: str, kind: str, pk) -> str:
    return f"{settings.BASE_URL}{base_path}{kind}/{pk}"


def render_user(directory_user, *, base_path: str) -> dict:
    raw = directory_user.raw or {}
    schemas = [USER_URN] + [key for key in raw if key.lower().startswith("urn:") and key.lower() != USER_URN.lower()]
    resource = {"schemas": schemas, "id": str(directory_user.pk)}
    for key, value in raw.items():
        if key.lower() in ("active",):
            continue
        resource[key] = value
    has_active = any(key.lower() == "active" for key in raw)
    if directory_user.external_id:
        resource[_ci_key(raw, "externalId")] = directory_user.external_id
    resource[_ci_key(raw, "userName")] = _ci_get(raw, "userName") or directory_user.user_name
    if has_active or not directory_user.active:
        resource["active"] = directory_user.active
    resource["meta"] = {
        "resourceType": "User",
        "created": directory_user.created_at.isoformat(),
        "lastModified": directory_user.updated_at.isoformat(),
        "location": _location(base_path, "Users", directory_user.pk),
    }
    return resource


# Groups ----------------------------------------------------------------------


@dataclass
class GroupFields:
    display_name: str
    external_id: str = ""
    member_ids: list | None = None  # None: not given
    raw: dict = field(default_factory=dict)


def member_ids_from(value, name="members") -> list[int]:
    """Member references → directory user ids. An id that is not a positive integer
    cannot belong to this organization: 400 invalidValue."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request(f"“{name}” must be a list of {{\"value\": id}} objects.", "invalidValue")
    ids = []
    for item in value:
        ident = _ci_get(item, "value") if isinstance(item, dict) else item
        try:
            number = int(str(ident).strip())
        except (TypeError, ValueError):
            raise bad_request(f"“{ident}” is not a user of this organization.", "invalidValue") from None
        if not 0 < number < 2**63:
            raise bad_request(f"“{ident}” is not a user of this organization.", "invalidValue")
        ids.append(number)
    return ids


def parse_group(body) -> GroupFields:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", "invalidSyntax")
    _check_schemas(body, GROUP_URN)
    display_name = " ".join(_string(_ci_get(body, "displayName"), "displayName", required=True,
                                     max_length=100).split())
    external_id = _string(_ci_get(body, "externalId"), "externalId", max_length=255)
    members = _ci_get(body, "members")
    member_ids = None if members is None else member_ids_from(members)
    raw = {k: copy.deepcopy(v) for k, v in body.items()
           if k.lower() not in READ_ONLY and k.lower() not in ("members", "schemas", "displayname", "externalid")}
    return GroupFields(display_name=display_name, external_id=external_id, member_ids=member_ids, raw=raw)


def render_group(group, *, base_path: str, members=None) -> dict:
    """`members`: user ids, or None to leave the attribute out. No `display`: it would cost
    a join per member, and neither Okta nor Entra reads it."""
    resource = {"schemas": [GROUP_URN], "id": str(group.pk)}
    for key, value in (group.raw or {}).items():
        resource[key] = value
    resource["displayName"] = group.display_name
    if group.external_id:
        resource["externalId"] = group.external_id
    if members is not None:
        resource["members"] = [
            {"value": str(pk), "$ref": _location(base_path, "Users", pk)}
            for pk in members
        ]
    resource["meta"] = {
        "resourceType": "Group",
        "created": group.created_at.isoformat(),
        "lastModified": group.updated_at.isoformat(),
        "location": _location(base_path, "Groups", group.pk),
    }
    return resource


# attributes / excludedAttributes ----------------------------------------------


ALWAYS_RETURNED = {"id", "schemas"}


def _split_attribute_list(text: str | None) -> list[str]:
    if not text:
        return []
    names = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        lowered = item.lower()
        for urn in (USER_URN, GROUP_URN):
            if lowered.startswith(urn.lower() + ":"):
                item = item[len(urn) + 1:]
                break
        names.append(item)
    return names


def wants_attribute(name: str, attributes: str | None, excluded: str | None) -> bool:
    """Whether `name` (top level) will be returned: used to skip loading members."""
    include = [a.split(".")[0].lower() for a in _split_attribute_list(attributes)]
    exclude = [a.lower() for a in _split_attribute_list(excluded)]
    if include:
        return name.lower() in include
    return name.lower() not in exclude


def project(resource: dict, attributes: str | None, excluded: str | None) -> dict:
    include = _split_attribute_list(attributes)
    exclude = _split_attribute_list(excluded)
    if include:
        result = {}
        for key, value in resource.items():
            if key.lower() in ALWAYS_RETURNED:
                result[key] = value
        for name in include:
            top, _, sub = name.partition(".")
            key = _ci_key(resource, top)
            if key not in resource:
                continue
            if not sub:
                result[key] = resource[key]
            elif isinstance(resource[key], dict):
                sub_key = _ci_key(resource[key], sub)
                if sub_key in resource[key]:
                    result.setdefault(key, {})[sub_key] = resource[key][sub_key]
            elif isinstance(resource[key], list):
                result[key] = [{_ci_key(item, sub): item[_ci_key(item, sub)]}
                               for item in resource[key] if isinstance(item, dict) and _ci_key(item, sub) in item]
        return result
    if exclude:
        result = copy.copy(resource)
        for name in exclude:
            top, _, sub = name.partition(".")
            key = _ci_key(result, top)
            if key.lower() in ALWAYS_RETURNED or key not in result:
                continue
            if not sub:
                del result[key]
            elif isinstance(result[key], dict):
                result[key] = {k: v for k, v in result[key].items() if k.lower() != sub.lower()}
        return result
    return resource


# PATCH -------------------------------------------------------------------------


@dataclass
class PatchPath:
    container: str | None  # an extension URN holding the attribute, or None for the core schema
    attr: str
    value_filter: object = None  # a parsed filter inside brackets
    sub: str | None = None


def parse_operations(body) -> list[tuple[str, str | None, object]]:
    """A PatchOp body → (op, path, value) triples; op lowercased (Entra sends “Replace”)."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a PatchOp JSON object.", "invalidSyntax")
    operations = _ci_get(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise bad_request("A PATCH needs a non-empty “Operations” list.", "invalidSyntax")
    if len(operations) > 1000:
        raise bad_request("A PATCH may have at most 1000 operations.", "invalidSyntax")
    result = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("Each operation must be an object.", "invalidSyntax")
        op = _ci_get(operation, "op")
        if not isinstance(op, str) or op.strip().lower() not in ("add", "replace", "remove"):
            raise bad_request("“op” must be add, replace or remove.", "invalidSyntax")
        path = _ci_get(operation, "path")
        if path is not None and (not isinstance(path, str) or len(path) > 500):
            raise bad_request("“path” must be a string.", "invalidPath")
        path = path.strip() if isinstance(path, str) and path.strip() else None
        op = op.strip().lower()
        if op == "remove" and path is None:
            raise ScimError(400, "A remove operation needs a path.", "noTarget")
        if op != "remove" and "value" not in {k.lower() for k in operation}:
            raise bad_request(f"An {op} operation needs a value.", "invalidValue")
        result.append((op, path, _ci_get(operation, "value")))
    return result


def parse_path(path: str, core_urn: str) -> PatchPath:
    container = None
    lowered = path.lower()
    if lowered.startswith(core_urn.lower() + ":"):
        path = path[len(core_urn) + 1:]
    elif lowered.startswith("urn:"):
        # urn:…:extension:enterprise:2.0:User:employeeNumber — the attribute follows the last colon
        # outside brackets.
        bracket = path.find("[")
        head = path if bracket < 0 else path[:bracket]
        urn, _, attr = head.rpartition(":")
        if not urn or not attr:
            raise bad_request(f"The path “{path}” is not valid.", "invalidPath")
        container = urn
        path = path[len(urn) + 1:]
    value_filter = None
    sub = None
    if "[" in path:
        attr, _, rest = path.partition("[")
        inner, closing, tail = rest.rpartition("]")
        if not closing or not inner.strip():
            raise bad_request(f"The path “{path}” is not valid.", "invalidPath")
        try:
            value_filter = parse_filter(inner)
        except ScimError:
            raise bad_request(f"The filter in “{path}” is not valid.", "invalidPath") from None
        if tail:
            if not tail.startswith(".") or len(tail) < 2:
                raise bad_request(f"The path “{path}” is not valid.", "invalidPath")
            sub = tail[1:]
    else:
        attr, _, sub = path.partition(".")
        sub = sub or None
    if not attr or not attr.replace("$", "").replace("_", "").replace("-", "").isalnum():
        raise bad_request(f"The path “{path}” is not valid.", "invalidPath")
    if sub is not None and not sub.replace("$", "").replace("_", "").isalnum():
        raise bad_request(f"The path “{path}” is not valid.", "invalidPath")
    return PatchPath(container=container, attr=attr, value_filter=value_filter, sub=sub)


def _matches(item, node) -> bool:
    """Evaluate a bracket filter (`type eq "work"`, `value eq "12"`) on one multi-valued item."""
    if isinstance(node, scim_ast.Filter):
        result = _matches(item, node.expr)
        return not result if node.negated else result
    if isinstance(node, scim_ast.LogExpr):
        if node.op.lower() == "and":
            return _matches(item, node.expr1) and _matches(item, node.expr2)
        return _matches(item, node.expr1) or _matches(item, node.expr2)
    if isinstance(node, scim_ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
        if not isinstance(item, dict):
            return False
        name = node.attr_path.attr_name
        if node.attr_path.sub_attr is not None:
            name = f"{name}.{node.attr_path.sub_attr.value}"
        actual = _ci_get(item, name)
        op = node.value.lower()
        if op == "pr":
            return actual not in (None, "", [])
        expected = node.comp_value.value if node.comp_value else None
        if isinstance(actual, bool):
            actual = "true" if actual else "false"
        actual = "" if actual is None else str(actual).lower()
        expected = "" if expected is None else str(expected).lower()
        return {
            "eq": actual == expected, "ne": actual != expected, "co": expected in actual,
            "sw": actual.startswith(expected), "ew": actual.endswith(expected),
            "gt": actual > expected, "ge": actual >= expected, "lt": actual < expected, "le": actual <= expected,
        }.get(op, False)
    raise bad_request("This filter is not supported in a path.", "invalidPath")


def _simple_type_filter(node):
    """`type eq "work"` → ("type", "work"), so an add/replace can create the item."""
    if isinstance(node, scim_ast.Filter) and not node.negated:
        return _simple_type_filter(node.expr)
    if isinstance(node, scim_ast.AttrExpr) and node.value.lower() == "eq" and isinstance(node.attr_path.attr_name, str):
        return node.attr_path.attr_name, node.comp_value.value if node.comp_value else None
    return None


def _set_path(container: dict, dotted: str, value, op: str):
    top, _, sub = dotted.partition(".")
    key = _ci_key(container, top)
    if sub:
        target = container.get(key)
        if target is None:
            target = container[key] = {}
        if not isinstance(target, dict):
            raise bad_request(f"“{top}” has no sub-attribute “{sub}”.", "invalidPath")
        target[_ci_key(target, sub)] = value
        return
    existing = container.get(key)
    if op == "add" and isinstance(existing, list):
        items = value if isinstance(value, list) else [value]
        container[key] = existing + [item for item in items if item not in existing]
    elif op == "add" and isinstance(existing, dict) and isinstance(value, dict):
        existing.update(value)
    else:
        container[key] = value


def user_document(directory_user) -> dict:
    """The stored User document PATCH operations apply to (apply_user_patch)."""
    doc = dict(directory_user.raw or {})
    doc[_ci_key(doc, "userName")] = _ci_get(doc, "userName") or directory_user.user_name
    doc["active"] = directory_user.active
    return doc


def apply_user_patch(doc: dict, operations, *, role_attribute: str) -> dict:
    """Apply PATCH operations to a User document (a copy is returned). The result is
    validated again by parse_user, like a PUT."""
    doc = copy.deepcopy(doc)
    for op, path, value in operations:
        if path is None:
            if not isinstance(value, dict):
                raise bad_request("An operation without a path needs an object value.", "invalidValue")
            for key, item in _normalize_core_urn_keys(value).items():
                if key.lower() in READ_ONLY:
                    continue  # Okta and Entra echo the id in path-less replaces
                if key.lower().startswith("urn:"):
                    # `urn:…:enterprise:2.0:User:department`, or the extension's URN holding an object.
                    if _looks_like_attribute_urn(key):
                        urn, _, attr = key.rpartition(":")
                        target = doc.setdefault(_ci_key(doc, urn), {})
                        if not isinstance(target, dict):
                            raise bad_request(f"“{urn}” must be an object.", "invalidValue")
                        _set_path(target, attr, item, op)
                    else:
                        if not isinstance(item, dict):
                            raise bad_request(f"“{key}” must be an object.", "invalidValue")
                        target = doc.setdefault(_ci_key(doc, key), {})
                        if not isinstance(target, dict):
                            raise bad_request(f"“{key}” must be an object.", "invalidValue")
                        target.update(item)
                    continue
                _set_path(doc, key, item, op)
            continue
        target_path = parse_path(path, USER_URN)
        if target_path.attr.lower() in READ_ONLY:
            raise bad_request(f"“{target_path.attr}” cannot be changed.", "mutability")
        container = doc
        if target_path.container:
            container = doc.setdefault(_ci_key(doc, target_path.container), {})
            if not isinstance(container, dict):
                raise bad_request(f"“{target_path.container}” must be an object.", "invalidValue")
        _apply_path_op(container, target_path, op, value, path)
    return doc


def _looks_like_attribute_urn(key: str) -> bool:
    """`urn:…:User:department` names an attribute; `urn:…:2.0:User` names a schema."""
    last = key.rpartition(":")[2]
    return bool(last) and last[0].islower()


def _apply_path_op(container: dict, target: PatchPath, op: str, value, path: str):
    key = _ci_key(container, target.attr)
    if target.value_filter is None:
        if op == "remove":
            if target.sub:
                inner = container.get(key)
                if isinstance(inner, dict):
                    inner.pop(_ci_key(inner, target.sub), None)
                elif isinstance(inner, list):
                    for item in inner:
                        if isinstance(item, dict):
                            item.pop(_ci_key(item, target.sub), None)
                return
            existing = container.get(key)
            if isinstance(existing, list) and value is not None:
                # Value-list removal: remove the listed items.
                removing = value if isinstance(value, list) else [value]
                container[key] = [item for item in existing if not any(_same_item(item, r) for r in removing)]
            else:
                container.pop(key, None)
            return
        _set_path(container, key if not target.sub else f"{key}.{target.sub}", value, op)
        return
    items = container.get(key)
    if items is None:
        items = []
    if not isinstance(items, list):
        raise bad_request(f"“{target.attr}” is not multi-valued.", "invalidPath")
    matched = [item for item in items if _matches(item, target.value_filter)]
    if op == "remove":
        if target.sub:
            for item in matched:
                item.pop(_ci_key(item, target.sub), None)
        else:
            container[key] = [item for item in items if item not in matched]
        return
    if not matched:
        simple = _simple_type_filter(target.value_filter)
        if simple is None:
            raise ScimError(400, f"Nothing matches “{path}”.", "noTarget")
        new_item = {simple[0]: simple[1]}
        if target.sub:
            new_item[target.sub] = value
        elif isinstance(value, dict):
            new_item.update(value)
        else:
            raise bad_request(f"The value for “{path}” must be an object.", "invalidValue")
        items.append(new_item)
        container[key] = items
        return
    for item in matched:
        if target.sub:
            item[_ci_key(item, target.sub)] = value
        elif isinstance(value, dict):
            item.update(value)
        else:
            raise bad_request(f"The value for “{path}” must be an object.", "invalidValue")


def _same_item(item, removing) -> bool:
    if isinstance(item, dict) and isinstance(removing, dict):
        wanted = _ci_get(removing, "value")
        if wanted is not None:
            return str(_ci_get(item, "value")).lower() == str(wanted).lower()
        return item == removing
    return item == removing


# Group PATCH -----------------------------------------------------------------------


@dataclass
class GroupPatch:
    """What a Group PATCH asks for: its operations (Okta's and Entra's forms alike),
    reduced in order to one change of each kind. The twin of apply_user_patch: a User
    PATCH changes a stored document, a Group PATCH names changes to make."""

    display_name: str | None = None  # the new name, whitespace collapsed; None: unchanged
    external_id: str | None = None  # the new externalId ("" removes it); None: unchanged
    replace_members: list[int] | None = None  # every member after the PATCH; None: members not replaced
    add_members: list[int] = field(default_factory=list)  # (without replace_members)
    remove_members: list[int] = field(default_factory=list)  # (without replace_members)

    @property
    def fields_changed(self) -> bool:
        return self.display_name is not None or self.external_id is not None

    @property
    def members_changed(self) -> bool:
        return self.replace_members is not None or bool(self.add_members or self.remove_members)


class _MemberChanges:
    """Member operations of one PATCH, in order, reduced to one replace/add/remove."""

    def __init__(self):
        self.replace: list[int] | None = None
        self.add: dict[int, None] = {}
        self.remove: dict[int, None] = {}

    def do_add(self, ids):
        for i in ids:
            self.remove.pop(i, None)
            self.add[i] = None

    def do_remove(self, ids):
        for i in ids:
            self.add.pop(i, None)
            self.remove[i] = None

    def do_replace(self, ids):
        self.replace = list(dict.fromkeys(ids))
        self.add.clear()
        self.remove.clear()


def _member_filter_ids(value_filter) -> list[int] | None:
    """`members[value eq "12"]` (or several joined with or) → [12]; None if not of that form."""
    node = value_filter
    while isinstance(node, scim_ast.Filter) and not node.negated and node.namespace is None:
        node = node.expr
    if isinstance(node, scim_ast.LogExpr) and node.op.lower() == "or":
        left, right = _member_filter_ids(node.expr1), _member_filter_ids(node.expr2)
        return None if left is None or right is None else left + right
    if (isinstance(node, scim_ast.AttrExpr) and node.value.lower() == "eq"
            and isinstance(node.attr_path.attr_name, str) and node.attr_path.attr_name.lower() == "value"):
        try:
            return [int(str(node.comp_value.value))]
        except (TypeError, ValueError):
            return []  # matches nothing
    return None


def parse_group_patch(operations) -> GroupPatch:
    """PATCH operations (parse_operations) on a Group → a GroupPatch, or 400 naming the
    first operation it cannot apply. Okta renames with a path-less {id, displayName} and
    adds or removes members with `members` and `members[value eq "id"]`; Entra sends
    `Remove` of `members` with a value list."""
    changes = _MemberChanges()
    new_name = None
    new_external_id = None
    for op, path, value in operations:
        if path is None:
            if not isinstance(value, dict):
                raise bad_request("An operation without a path needs an object value.")
            for key, item in value.items():
                lowered = key.lower()
                if lowered in ("id", "meta", "schemas"):
                    continue  # Okta sends {id, displayName} to rename
                if lowered == "displayname":
                    new_name = _string(item, "displayName", required=True, max_length=100)
                elif lowered == "externalid":
                    new_external_id = _string(item, "externalId", max_length=255)
                elif lowered == "members":
                    ids = member_ids_from(item)
                    changes.do_replace(ids) if op == "replace" else changes.do_add(ids)
                else:
                    raise bad_request(f"Groups have no attribute “{key}”.", "invalidPath")
            continue
        target = parse_path(path, GROUP_URN)
        attr = target.attr.lower()
        if target.container is not None:
            raise bad_request(f"Groups have no attribute “{path}”.", "invalidPath")
        if attr == "displayname" and target.value_filter is None and not target.sub:
            if op == "remove":
                raise bad_request("displayName is required.", "mutability")
            new_name = _string(value, "displayName", required=True, max_length=100)
        elif attr == "externalid" and target.value_filter is None and not target.sub:
            new_external_id = "" if op == "remove" else _string(value, "externalId", max_length=255)
        elif attr == "members" and not target.sub:
            if target.value_filter is not None:
                ids = _member_filter_ids(target.value_filter)
                if ids is None:
                    raise bad_request("Only members[value eq \"id\"] is supported.", "invalidPath")
                if op != "remove":
                    raise bad_request("Use add with a members list to add members.", "invalidPath")
                changes.do_remove(ids)
            elif op == "add":
                changes.do_add(member_ids_from(value))
            elif op == "replace":
                changes.do_replace(member_ids_from(value))
            elif value is None:
                changes.do_replace([])
            else:
                # Entra: {"op": "Remove", "path": "members", "value": [{"value": "id"}]}
                changes.do_remove(member_ids_from(value))
        elif attr in ("id", "meta"):
            raise bad_request(f"“{target.attr}” cannot be changed.", "mutability")
        else:
            raise bad_request(f"Groups have no attribute “{path}”.", "invalidPath")
    patch = GroupPatch(display_name=None if new_name is None else " ".join(new_name.split()),
                       external_id=new_external_id)
    if changes.replace is not None:
        patch.replace_members = [i for i in changes.replace if i not in changes.remove] + list(changes.add)
    else:
        patch.add_members, patch.remove_members = list(changes.add), list(changes.remove)
    return patch
