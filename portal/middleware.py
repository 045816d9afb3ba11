from django.utils.cache import add_never_cache_headers, patch_vary_headers


def private_pages(get_response):
    """Pages behind login hold personal data: never cached, by the browser or a proxy,
    and a full page and its htmx partial at one URL are kept apart."""

    def middleware(request):
        response = get_response(request)
        if getattr(request, "user", None) and request.user.is_authenticated:
            if "Cache-Control" not in response:
                add_never_cache_headers(response)
                response["Cache-Control"] += ", private"
            patch_vary_headers(response, ["HX-Request"])
        return response

    return middleware
