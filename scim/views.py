"""SCIM 2.0 endpoints (RFC 7644) under /scim/v2/<org>/ (the settings page is scim.dashboard).

Every SCIM request: bearer token of THIS organization (sessions never count),
a per-token rate limit, a body cap, then a thin view that parses, calls a
service and renders. Errors are RFC 7644 JSON; the last requests are logged
for the settings page.
"""
import json
import logging
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config import jsonbody
from config.errors import ServiceError
from config.faults import UNAVAILABLE, unavailable_response, warn_throttled

from . import fastpath, limits, resources, schemas, selectors, services
from .errors import SCIM_CONTENT_TYPE, ScimError, bad_request, conflict, not_found
from .filters import group_filter, user_filter, user_name_equals

log = logging.getLogger(__name__)


def _json(data, status=200, headers=None) -> JsonResponse:
    response = JsonResponse(data, status=status, content_type=SCIM_CONTENT_TYPE,
                            json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _unauthorized() -> JsonResponse:
    return ScimError(401, "A valid bearer token for this organization is required.",
                     headers={"WWW-Authenticate": 'Bearer realm="scim"'}).response()


def _rate_limited(token) -> ScimError | None:
    retry_after = limits.request_retry_after(token_id=token.pk)
    if retry_after is None:
        return None
    return ScimError(429, f"Too many requests; at most {settings.SCIM_RATE_LIMIT} per "
                          f"{settings.SCIM_RATE_WINDOW_SECONDS} seconds per token.", "tooMany",
                     headers={"Retry-After": str(retry_after)})


def _read_json(request):
    """The request body as JSON; 413 over the cap, 400 invalidSyntax when malformed."""
    limit = getattr(settings, "SCIM_MAX_BODY_BYTES", 1024 * 1024)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad_request("Content-Length is not a number.", "invalidSyntax") from None
    if length > limit:
        raise ScimError(413, f"The request body is larger than {limit} bytes.")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise ScimError(413, f"The request body is larger than {limit} bytes.")
    if not raw.strip():
        raise bad_request("The request needs a JSON body.", "invalidSyntax")
    try:
        return jsonbody.loads(raw)  # nesting bounded, NaN/Infinity refused (SPEC §6)
    except ValueError:  # MalformedJSON and UnicodeDecodeError are ValueErrors
        raise bad_request("The body is not valid JSON.", "invalidSyntax") from None


def _service_error(exc: ServiceError) -> ScimError:
    if exc.status == 404:
        return not_found(exc.message)
    if exc.status == 409:
        return conflict(exc.message, "uniqueness" if exc.code in ("uniqueness", "name_taken") else None)
    if exc.status == 403:
        return ScimError(403, exc.message)
    return bad_request(exc.message, "invalidValue")


def scim_view(view):
    @csrf_exempt
    @wraps(view)
    def wrapper(request, org_slug, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, secret = header.partition(" ")
        token = None
        try:  # all of it: the token lookup reads the database too
            if scheme.lower() == "bearer":
                token = services.directory_authenticate(secret=secret.strip(), org_slug=org_slug)
            if token is None:
                return _unauthorized()
            request.scim_org = token.org
            request.scim_directory = token.org.directory
            request.scim_base_path = f"/scim/v2/{token.org.slug}/"
            limited = _rate_limited(token)
            if limited is not None:
                raise limited
            response = view(request, *args, **kwargs)
        except ScimError as exc:
            response = exc.response()
        except ServiceError as exc:
            response = _service_error(exc).response()
        except UNAVAILABLE as exc:  # PostgreSQL unreachable: 503 and Retry-After, the IdP retries
            warn_throttled(log, "scim.unavailable", f"SCIM {request.method} {request.path}: answered 503")
            response = unavailable_response(request, exc)
        except Exception:  # noqa: BLE001 - an IdP gets a SCIM error body, never an HTML page
            # Services are atomic: whatever failed was rolled back. The traceback goes to
            # the log, not to the client; the request log shows the 500 to the administrator.
            log.exception("SCIM %s %s failed", request.method, request.path)
            response = ScimError(500, "Internal error; the request changed nothing. Retry later.").response()
        if token is None:
            return response
        detail = ""
        if response.status_code >= 400 and response.get("Content-Type", "").startswith(SCIM_CONTENT_TYPE):
            try:
                detail = json.loads(response.content).get("detail", "")
            except ValueError:
                detail = ""
        services.scim_request_log_record(org=token.org, method=request.method, path=request.get_full_path(),
                                         status=response.status_code, detail=detail)
        return response

    return wrapper


def _methods(request, *allowed):
    if request.method not in allowed:
        raise ScimError(405, f"{request.method} is not supported here.")


MAX_START_INDEX = 2**31 - 1


def _int_param(value, default):
    if value in (None, ""):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise bad_request(f"“{value}” is not an integer.", "invalidValue") from None


def _list_params(request, search_body=None):
    """filter, startIndex, count (capped, negative → 0, startIndex < 1 → 1), attributes."""
    source = search_body if search_body is not None else request.GET
    get = (lambda name: resources._ci_get(source, name)) if search_body is not None else source.get
    # Past any possible row, but inside the database's integer (no 500, SPEC §6): the
    # page is then empty and totalResults still right.
    start = min(max(1, _int_param(get("startIndex"), 1)), MAX_START_INDEX)
    count = _int_param(get("count"), schemas.max_results())
    count = min(max(0, count), schemas.max_results())
    text = get("filter")
    if text is not None and not isinstance(text, str):
        raise bad_request("“filter” must be a string.", "invalidFilter")
    return text, start, count, _attribute_list(get, "attributes"), _attribute_list(get, "excludedAttributes")


def _attribute_list(get, name):
    """`attributes`/`excludedAttributes`: a comma-separated string, or (in a SearchRequest) a list of strings."""
    value = get(name)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ",".join(value)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"“{name}” must be a string or a list of strings.", "invalidValue")
    return value


def _attribute_params(request):
    return request.GET.get("attributes"), request.GET.get("excludedAttributes")


def _search_body(request):
    body = _read_json(request)
    if not isinstance(body, dict):
        raise bad_request("The body must be a SearchRequest object.", "invalidSyntax")
    return body


# Discovery ---------------------------------------------------------------------------


@scim_view
def service_provider_config(request):
    _methods(request, "GET")
    return _json(schemas.service_provider_config())


@scim_view
def resource_types(request, resource_id=None):
    _methods(request, "GET")
    types = schemas.resource_types()
    if resource_id is None:
        return _json(schemas.list_response(types))
    for item in types:
        if item["id"].lower() == resource_id.lower():
            return _json(item)
    raise not_found("No such resource type.")


@scim_view
def schema_list(request, resource_id=None):
    _methods(request, "GET")
    items = schemas.schemas(selectors.role_management(org=request.scim_org).attribute)
    if resource_id is None:
        return _json(schemas.list_response(items))
    for item in items:
        if item["id"].lower() == resource_id.lower():
            return _json(item)
    raise not_found("No such schema.")


@scim_view
def root_search(request):
    # Searching Users and Groups at once (RFC 7644 §3.4.3) is optional; 501 says so.
    _methods(request, "POST")
    raise ScimError(501, "Search across resource types is not supported; use /Users/.search or /Groups/.search.")


@scim_view
def not_found_view(request, rest=""):
    raise not_found("No such SCIM endpoint.")


# Users ---------------------------------------------------------------------------------


def _page(qs, start, count, total=None):
    """A page in stable id order and the total (RFC 7644 §3.4.2.4), in two queries
    whose cost together is one pass over the organization's (org, id) index entries,
    whatever the depth.

    Deferred join: the subquery picks the page's ids from that index alone
    (index-only), so a deep OFFSET skips index entries rather than wide rows (`raw`
    JSON), and only the page's rows are then read, by primary key. The ids come from
    `qs`, which is scoped to the organization, so the outer query needs no filter of
    its own. The total is then `offset` rows before the page, the page, and a COUNT
    of what follows it only: the OFFSET walked the entries before the page, the COUNT
    walks those after it, none twice. A page that is not full ends the result (Okta's
    and Entra's lookups) and needs no COUNT at all.

    With the `total` known (an unfiltered list: the organization's counter), there is
    no COUNT, and a page nearer the end is read from it (`ORDER BY id DESC OFFSET
    total - stop`): no page walks more than half the entries."""
    offset = start - 1
    rows = []
    if total is not None:
        stop = min(offset + count, total)
        if count and offset < total:
            if offset > total - stop:
                ids = qs.order_by("-pk").values("pk")[total - stop:total - offset]
            else:
                ids = qs.order_by("pk").values("pk")[offset:stop]
            rows = list(qs.model._default_manager.filter(pk__in=ids).order_by("pk"))
        return rows, total
    if count:
        ids = qs.order_by("pk").values("pk")[offset:offset + count]
        rows = list(qs.model._default_manager.filter(pk__in=ids).order_by("pk"))
        if len(rows) < count and (rows or offset == 0):
            return rows, offset + len(rows)
        if rows:
            return rows, offset + len(rows) + qs.filter(pk__gt=rows[-1].pk).count()
    return rows, qs.count()


def _user_page(request, text, start, count, attributes, excluded):
    org = request.scim_org
    qs = selectors.directory_users(org=org)
    name = user_name_equals(text) if text and start == 1 and count else None
    if name is not None:
        # At most one user has it (unique per organization), so the page is the lookup.
        rows = fastpath.directory_user_named(org.pk, name)
        total = len(rows)
    else:
        if text:
            qs = qs.filter(user_filter(text))
        rows, total = _page(qs, start, count, None if text else selectors.directory_user_count(org=org))
    items = [resources.project(resources.render_user(row, base_path=request.scim_base_path), attributes, excluded)
             for row in rows]
    return _json(schemas.list_response(items, total, start))


@scim_view
def users(request):
    _methods(request, "GET", "POST")
    if request.method == "GET":
        return _user_page(request, *_list_params(request))
    fields = resources.parse_user(_read_json(request),
                                  role_attribute=selectors.role_management(org=request.scim_org).attribute)
    directory_user = services.scim_user_create(org=request.scim_org, directory=request.scim_directory,
                                               fields=fields)
    resource = resources.render_user(directory_user, base_path=request.scim_base_path)
    return _json(resources.project(resource, *_attribute_params(request)), status=201,
                 headers={"Location": resource["meta"]["location"]})


@scim_view
def users_search(request):
    _methods(request, "POST")
    return _user_page(request, *_list_params(request, _search_body(request)))


def _directory_user_id(resource_id: str) -> int:
    try:
        pk = int(resource_id)
    except (TypeError, ValueError):
        raise not_found("User not found.") from None
    if not 0 < pk < 2**63:
        raise not_found("User not found.")
    return pk


@scim_view
def user_detail(request, resource_id):
    _methods(request, "GET", "PUT", "PATCH", "DELETE")
    org, directory = request.scim_org, request.scim_directory
    pk = _directory_user_id(resource_id)
    if request.method == "GET":
        directory_user = selectors.directory_user_get(org=org, pk=pk)
        if directory_user is None:
            raise not_found("User not found.")
    elif request.method == "PUT":
        body = _read_json(request)
        if selectors.directory_user_get(org=org, pk=pk) is None:
            raise not_found("User not found.")
        fields = resources.parse_user(body, role_attribute=selectors.role_management(org=org).attribute)
        directory_user = services.scim_user_replace(org=org, directory=directory, directory_user_id=pk,
                                                    fields=fields)
    elif request.method == "PATCH":
        operations = resources.parse_operations(_read_json(request))
        directory_user = services.scim_user_patch(org=org, directory=directory, directory_user_id=pk,
                                                  operations=operations)
    else:
        services.scim_user_delete(org=org, directory_user_id=pk)
        return HttpResponse(status=204)
    resource = resources.render_user(directory_user, base_path=request.scim_base_path)
    return _json(resources.project(resource, *_attribute_params(request)))


# Groups --------------------------------------------------------------------------------


def _render_groups(request, groups, attributes, excluded):
    with_members = resources.wants_attribute("members", attributes, excluded)
    members = selectors.group_members(group_ids=[g.pk for g in groups]) if with_members else {}
    return [
        resources.project(
            resources.render_group(g, base_path=request.scim_base_path,
                                   members=members.get(g.pk, []) if with_members else None),
            attributes, excluded)
        for g in groups
    ]


def _group_page(request, text, start, count, attributes, excluded):
    org = request.scim_org
    qs = selectors.directory_groups(org=org)
    if text:
        qs = qs.filter(pk__in=selectors.directory_groups(org=org).filter(group_filter(text)).values("pk"))
    rows, total = _page(qs, start, count)
    return _json(schemas.list_response(_render_groups(request, rows, attributes, excluded), total, start))


@scim_view
def groups(request):
    _methods(request, "GET", "POST")
    if request.method == "GET":
        return _group_page(request, *_list_params(request))
    fields = resources.parse_group(_read_json(request))
    group = services.scim_group_create(org=request.scim_org, fields=fields)
    attributes, excluded = _attribute_params(request)
    resource = _render_groups(request, [group], attributes, excluded)[0]
    return _json(resource, status=201, headers={"Location": group_location(request, group)})


def group_location(request, group) -> str:
    return f"{settings.BASE_URL}{request.scim_base_path}Groups/{group.pk}"


@scim_view
def groups_search(request):
    _methods(request, "POST")
    return _group_page(request, *_list_params(request, _search_body(request)))


@scim_view
def group_detail(request, resource_id):
    _methods(request, "GET", "PUT", "PATCH", "DELETE")
    org = request.scim_org
    try:
        pk = int(resource_id)
        if not 0 < pk < 2**63:
            raise ValueError
    except (TypeError, ValueError):
        raise not_found("Group not found.") from None
    attributes, excluded = _attribute_params(request)
    if request.method == "GET":
        group = selectors.directory_group_get(org=org, pk=pk)
        if group is None:
            raise not_found("Group not found.")
    elif request.method == "PUT":
        body = _read_json(request)
        if selectors.directory_group_get(org=org, pk=pk) is None:
            raise not_found("Group not found.")
        group = services.scim_group_replace(org=org, group_id=pk, fields=resources.parse_group(body))
    elif request.method == "PATCH":
        operations = resources.parse_operations(_read_json(request))
        services.scim_group_patch(org=org, group_id=pk, operations=operations)
        if attributes is None and excluded is None:
            return HttpResponse(status=204)
        group = selectors.directory_group_get(org=org, pk=pk)
    else:
        services.scim_group_delete(org=org, group_id=pk)
        return HttpResponse(status=204)
    return _json(_render_groups(request, [group], attributes, excluded)[0])
