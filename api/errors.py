"""One error format for the whole API.

Every error body is ``{"code": "<stable_code>", "message": "<human>", "details": {...}}``;
``details`` is present only when there is something to say field by field (a
validation error). The codes are stable: clients may branch on them.

DRF calls `exception_handler` for every exception a view raises. Anything it
does not know is returned as None and re-raised, so a real bug is still a 500
with a traceback in the logs; bad input never is.
"""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config.errors import ServiceError


class UnknownField(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unknown_field"
    default_detail = "The request has fields this endpoint does not accept."

    def __init__(self, fields):
        self.fields = sorted(fields)
        super().__init__(f"Unknown field(s): {', '.join(self.fields)}.")


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


class InvalidQuery(exceptions.APIException):
    """A bad query-string parameter (a filter), with the parameter named in details."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(message)


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


def _plain(detail):
    """ErrorDetail trees → plain lists/dicts of strings."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, (list, tuple)):
        return [_plain(item) for item in detail]
    return str(detail)


# Stable codes for DRF's own exceptions; anything else keeps DRF's default code.
_DRF_CODES = {
    exceptions.ParseError: ("malformed_json", None),
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication is required: a session or a bearer token."),
    exceptions.AuthenticationFailed: ("invalid_token", None),
    exceptions.PermissionDenied: ("permission_denied", None),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.Throttled: ("throttled", None),
}


def _body_for(exc: exceptions.APIException) -> dict:
    if isinstance(exc, UnknownField):
        return error_body("unknown_field", str(exc.detail), {field: ["Unknown field."] for field in exc.fields})
    if isinstance(exc, InvalidQuery):
        return error_body("invalid", str(exc.detail), {exc.param: [str(exc.detail)]})
    if isinstance(exc, exceptions.ValidationError):
        details = _plain(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        return error_body("invalid", "The request is not valid; see details.", details)
    for cls, (code, message) in _DRF_CODES.items():
        if isinstance(exc, cls):
            return error_body(code, message or str(exc.detail))
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    return error_body(code, str(exc.detail))


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        set_rollback()
        retry_after = getattr(exc, "retry_after", None)  # config.errors.RateLimited
        return Response(error_body(exc.code, exc.message), status=exc.status,
                        headers={"Retry-After": str(retry_after)} if retry_after else None)
    if isinstance(exc, RequestDataTooBig):
        # Raised when something reads request.body past DATA_UPLOAD_MAX_MEMORY_SIZE.
        exc = TooLarge()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    # DRF's handler adds WWW-Authenticate / Retry-After and rolls back the atomic block.
    response = drf_exception_handler(exc, context)
    if response is None:  # pragma: no cover - DRF handles every APIException
        return None
    response.data = _body_for(exc)
    return response
