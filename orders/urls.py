from django.urls import path

from . import hr_views, views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("ny/", views.order_create, name="create"),
    path("<uuid:public_id>/", views.order_detail, name="detail"),
    path("<uuid:public_id>/ret/", views.order_correct, name="correct"),
    path("<uuid:public_id>/linjer/<int:line_id>/annuller/", views.line_cancel, name="line_cancel"),
    path(
        "<uuid:public_id>/linjer/<int:line_id>/bestil-igen/",
        views.line_reorder,
        name="line_reorder",
    ),
    path("<uuid:public_id>/<str:which>.pdf", views.order_letter, name="letter"),
    path("nyansat/<uuid:public_id>/", hr_views.hire_order, name="hire_order"),
    path(
        "nyansat/<uuid:public_id>/ikke-noedvendig/",
        hr_views.hire_not_needed,
        name="hire_not_needed",
    ),
]
