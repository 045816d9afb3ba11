from django.utils.cache import add_never_cache_headers, patch_vary_headers

# Browser features the portal never uses, switched off so injected or embedded content
# cannot ask for them either. The clipboard stays allowed: the copy buttons use it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def permissions_policy(get_response):
    def middleware(request):
        response = get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware


def private_pages(get_response):
    """Pages behind login hold personal data: never cached, by the browser or a proxy,
    and a full page and its htmx partial at one URL are kept apart."""

    def middleware(request):
        response = get_response(request)
        if getattr(request, "user", None) and request.user.is_authenticated:
            if "Cache-Control" not in response:
                # Sets "private" too, so a shared cache never keeps the page.
                add_never_cache_headers(response)
            patch_vary_headers(response, ["HX-Request"])
        return response

    return middleware
