from django.urls import path

from incidents import views

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    # Before <reference>: "declare" and "metrics" would otherwise be read as references.
    path("incidents/declare/", views.incident_declare, name="incident_declare"),
    path("incidents/metrics/", views.incident_metrics, name="incident_metrics"),
    path("incidents/<str:reference>/", views.incident_detail, name="incident_detail"),
    path("incidents/<str:reference>/edit/", views.incident_edit, name="incident_edit"),
    path("incidents/<str:reference>/follow/", views.incident_follow, name="incident_follow"),
    path(
        "incidents/<str:reference>/status/",
        views.incident_change_status,
        name="incident_change_status",
    ),
    path(
        "incidents/<str:reference>/severity/",
        views.incident_change_severity,
        name="incident_change_severity",
    ),
    path(
        "incidents/<str:reference>/roles/", views.incident_assign_role, name="incident_assign_role"
    ),
    path("incidents/<str:reference>/notes/", views.incident_add_note, name="incident_add_note"),
    path(
        "incidents/<str:reference>/timeline/<int:entry_id>/pin/",
        views.timeline_entry_pin,
        name="timeline_entry_pin",
    ),
    path(
        "incidents/<str:reference>/status-updates/new/",
        views.status_update_new,
        name="status_update_new",
    ),
]
