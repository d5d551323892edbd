"""The client's address, as far as the portal can trust it: what the sign-in lockout is keyed on."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The connection's address or, behind `TRUSTED_PROXY_COUNT` proxies, the address the outermost of them saw.

    Each proxy appends the address it was connected from to X-Forwarded-For, so only the last TRUSTED_PROXY_COUNT
    entries were written by the portal's own proxies; anything further left came from the client and may be forged.
    A header that is missing, too short or malformed gives the connection's address.
    """
    connection = request.META.get("REMOTE_ADDR")
    count: int = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return connection
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return connection
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return connection
