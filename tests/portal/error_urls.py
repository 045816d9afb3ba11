"""The portal's URLs plus one view that fails, to see the 500 page a user gets."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def fails(request):
    raise RuntimeError("a bug")


urlpatterns = [*portal_urlpatterns, path("fejl/", fails)]
