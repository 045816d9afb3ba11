from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from orders import access_log, welcome_views

from . import views

admin.site.site_header = _("Attestportal administration")
admin.site.site_title = _("Attestportal")

urlpatterns = [
    path("", views.home, name="home"),
    path("log-ind/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("log-ud/", auth_views.LogoutView.as_view(), name="logout"),
    path("bestillinger/", include("orders.urls")),
    path("loen/", include("orders.payroll_urls")),
    path("modtagelse/", include("robot.urls")),
    path("velkommen/", welcome_views.welcome, name="welcome"),
    path("velkommen/velkomstpakke.pdf", welcome_views.welcome_pdf, name="welcome_pdf"),
    path("velkommen/skjul/", welcome_views.welcome_dismiss, name="welcome_dismiss"),
    path("adgangslog/", access_log.access_log_export, name="access_log_export"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
