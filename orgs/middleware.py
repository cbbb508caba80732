from django.conf import settings

from .audit import reset_client_ip, set_client_ip


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the address a known number of trusted proxies put in
    X-Forwarded-For (PROXY_COUNT); never a client-chosen header otherwise."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_client_ip(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            reset_client_ip(token)
