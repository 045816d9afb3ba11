from django.urls import path

from . import connection_views, views

app_name = "robot"

urlpatterns = [
    path("", views.intake, name="intake"),
    path("upload/", views.upload_one, name="upload"),
    path("koe/", views.queue, name="queue"),
    path("arkivering/", views.filing_queue, name="filing"),
    path("arkivering/<int:pk>/", views.filing_action, name="filing_action"),
    path("arkivering/forbindelse/", connection_views.esdh_connection, name="esdh_connection"),
    path("dokument/<int:pk>/", views.document_detail, name="document"),
    path("dokument/<int:pk>/fil/", views.document_file, name="document_file"),
    path("dokument/<int:pk>/raekke/", views.document_row, name="document_row"),
    path("dokument/<int:pk>/vurdering/", views.document_assess, name="document_assess"),
    path("dokument/<int:pk>/godkendelse/", views.document_approve, name="document_approve"),
    path("dokument/<int:pk>/tilknyt/", views.document_resolve, name="document_resolve"),
    path("dokument/<int:pk>/kassering/", views.document_discard, name="document_discard"),
    path(
        "dokument/<int:pk>/ikke-bestilt/", views.document_not_ordered, name="document_not_ordered"
    ),
    path("dokument/<int:pk>/to-svar/", views.document_second_answer, name="document_second_answer"),
    path("forslag/<int:pk>/bekraeft/", views.proposal_confirm, name="proposal_confirm"),
    path("forslag/<int:pk>/underkend/", views.proposal_overrule, name="proposal_overrule"),
    path("afproevning/", views.agreement, name="agreement"),
    path("afproevning/<int:kind_id>/tilstand/", views.agreement_switch, name="agreement_switch"),
]
