"""SCIM errors (RFC 7644 §3.12): a JSON body with `status` as a string and, for 400s, a `scimType`."""
from django.http import JsonResponse

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_CONTENT_TYPE = "application/scim+json"


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        body = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        response = JsonResponse(body, status=self.status, content_type=SCIM_CONTENT_TYPE)
        for name, value in self.headers.items():
            response[name] = value
        return response


def bad_request(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def not_found(detail: str = "Resource not found.") -> ScimError:
    return ScimError(404, detail)


def conflict(detail: str, scim_type: str | None = "uniqueness") -> ScimError:
    return ScimError(409, detail, scim_type)
