from django.urls import path

from portal.compliance import views

urlpatterns = [
    path("compliance/", views.compliance_matrix, name="compliance_matrix"),
    path("compliance/export.csv", views.compliance_export_csv, name="compliance_export_csv"),
    path("compliance/checks/", views.compliance_check_list, name="compliance_check_list"),
    # Before <slug>: "add" would otherwise be read as a check's slug.
    path("compliance/checks/add/", views.compliance_check_add, name="compliance_check_add"),
    path(
        "compliance/checks/<slug:slug>/",
        views.compliance_check_detail,
        name="compliance_check_detail",
    ),
    path(
        "compliance/checks/<slug:slug>/edit/",
        views.compliance_check_edit,
        name="compliance_check_edit",
    ),
    path(
        "compliance/checks/<slug:slug>/delete/",
        views.compliance_check_delete_view,
        name="compliance_check_delete",
    ),
    path(
        "compliance/checks/<slug:check_slug>/services/<slug:service_slug>/",
        views.compliance_history,
        name="compliance_history",
    ),
    path(
        "compliance/checks/<slug:check_slug>/services/<slug:service_slug>/attest/",
        views.compliance_attest_view,
        name="compliance_attest",
    ),
    path("compliance/findings/", views.compliance_finding_list, name="compliance_finding_list"),
    path(
        "compliance/findings/<int:pk>/",
        views.compliance_finding_detail,
        name="compliance_finding_detail",
    ),
    path(
        "compliance/findings/<int:pk>/acknowledge/",
        views.compliance_finding_acknowledge_view,
        name="compliance_finding_acknowledge",
    ),
    path(
        "compliance/findings/<int:pk>/accept-risk/",
        views.compliance_finding_accept_risk_view,
        name="compliance_finding_accept_risk",
    ),
]
