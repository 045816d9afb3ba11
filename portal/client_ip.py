from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the outermost of our trusted reverse proxies saw it."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # Each proxy appends the address it was connected from, so the client's address
        # is the proxies-th entry from the right of X-Forwarded-For. Entries further left
        # were sent by the client itself and could be forged to dodge the lockout.
        ip, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if ip:
            return ip
    return request.META.get("REMOTE_ADDR")
