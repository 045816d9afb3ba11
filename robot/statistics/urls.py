from django.urls import path

from . import views

app_name = "statistics"

urlpatterns = [
    path("", views.statistics_page, name="page"),
    path("eksport/<slug:table>.<str:fmt>", views.statistics_export, name="export"),
    path("maanedsrapport/", views.monthly_report, name="monthly_report"),
]
