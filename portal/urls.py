from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from orders import access_log, inbox_views, welcome_views
from robot import views as robot_views

from . import org_import_views, sso, views

admin.site.site_header = _("Attestportal administration")
admin.site.site_title = _("Attestportal")

urlpatterns = [
    path("", views.home, name="home"),
    path("i-dag/", robot_views.today, name="today"),
    path("log-ind/", views.login, name="login"),
    path("log-ud/", sso.logout, name="logout"),
    path("oidc/log-ind/", sso.oidc_login, name="oidc_authentication_init"),
    path("oidc/callback/", sso.oidc_callback, name="oidc_authentication_callback"),
    path("oidc/bekraeft/", sso.oidc_reauthenticate, name="oidc_reauthenticate"),
    path("bekraeft-identitet/", views.reauthenticate, name="reauthenticate"),
    path("ingen-adgang/", sso.no_access, name="sso_no_access"),
    path("bestillinger/", include("orders.urls")),
    path("loen/", include("orders.payroll_urls")),
    path("modtagelse/", include("robot.urls")),
    path("statistik/", include("robot.statistics.urls")),
    path("velkommen/", welcome_views.welcome, name="welcome"),
    path("velkommen/velkomstpakke.pdf", welcome_views.welcome_pdf, name="welcome_pdf"),
    path("velkommen/skjul/", welcome_views.welcome_dismiss, name="welcome_dismiss"),
    path("beskeder/", inbox_views.inbox, name="inbox"),
    path("adgangslog/", access_log.access_log_export, name="access_log_export"),
    path("organisation/import/", org_import_views.organisation_import, name="org_import"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
