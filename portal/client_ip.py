import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies() -> list[Network]:
    # Read at each request, not at import, so a changed setting counts at once.
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in settings.TRUSTED_PROXIES]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address, proxies: list[Network]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's own, or, when the connection comes from one
    of our trusted reverse proxies, the nearest address in X-Forwarded-For that is not a
    trusted proxy itself.

    A client that reaches the portal directly may send any X-Forwarded-For it likes, so the
    header counts only on a trusted proxy's request; entries further left than the first
    untrusted one were written by the client and could be forged to dodge the lockout."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = trusted_proxies()
    if not _is_trusted(_address(remote or ""), proxies):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = remote
    for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _address(entry)
        if address is None:
            # Garbage a proxy would not write: the client's own, so stop before it.
            break
        client = str(address)
        if not _is_trusted(address, proxies):
            break
    return client
