from django.urls import path

from . import hr_views
from . import payroll_views as views

app_name = "payroll"

urlpatterns = [
    path("", views.batches, name="batches"),
    path("klargoer/", views.batches_prepare, name="prepare"),
    path("batch/<int:pk>/", views.batch_detail, name="batch"),
    path("batch/<int:pk>/csv/", views.batch_csv, name="batch_csv"),
    path("batch/<int:pk>/bestilt/", views.batch_mark_ordered, name="batch_ordered"),
    path("batch/<int:pk>/fortryd/", views.batch_undo, name="batch_undo"),
    path("batch/<int:pk>/oploes/", views.batch_release, name="batch_release"),
    path("papir/<int:line_id>/bestil/", views.paper_order, name="paper_order"),
    path("dobbelt/<int:pk>/haandteret/", views.duplicate_handled, name="duplicate_handled"),
    path("nyansatte/", hr_views.hire_compliance, name="hire_compliance"),
    path("nyansatte/import/", hr_views.hire_imports, name="hire_imports"),
    path(
        "nyansatte/import/eksempel.csv",
        hr_views.hire_import_example,
        name="hire_import_example",
    ),
    path("nyansatte/import/<uuid:public_id>/", hr_views.hire_import_detail, name="hire_import"),
    path(
        "nyansatte/import/<uuid:public_id>/anvend/",
        hr_views.hire_import_apply,
        name="hire_import_apply",
    ),
]
