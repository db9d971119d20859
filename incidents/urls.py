"""Routes of the incident and post-mortem UI."""

from django.urls import path

from incidents.views import incidents, postmortems

urlpatterns = [
    path("incidents/", incidents.incident_list, name="incident_list"),
    # Before <reference>: "declare" and "metrics" would otherwise be read as references.
    path("incidents/declare/", incidents.incident_declare, name="incident_declare"),
    path("incidents/metrics/", incidents.incident_metrics, name="incident_metrics"),
    path("incidents/<str:reference>/", incidents.incident_detail, name="incident_detail"),
    path("incidents/<str:reference>/edit/", incidents.incident_edit, name="incident_edit"),
    path("incidents/<str:reference>/follow/", incidents.incident_follow, name="incident_follow"),
    path(
        "incidents/<str:reference>/status/",
        incidents.incident_change_status,
        name="incident_change_status",
    ),
    path(
        "incidents/<str:reference>/reopen/",
        incidents.incident_reopen,
        name="incident_reopen",
    ),
    path(
        "incidents/<str:reference>/severity/",
        incidents.incident_change_severity,
        name="incident_change_severity",
    ),
    path(
        "incidents/<str:reference>/roles/",
        incidents.incident_assign_role,
        name="incident_assign_role",
    ),
    path("incidents/<str:reference>/notes/", incidents.incident_add_note, name="incident_add_note"),
    path(
        "incidents/<str:reference>/timeline/<int:entry_id>/pin/",
        incidents.timeline_entry_pin,
        name="timeline_entry_pin",
    ),
    path(
        "incidents/<str:reference>/status-updates/new/",
        incidents.status_update_new,
        name="status_update_new",
    ),
    # Post-mortems: under the incident, plus the search and "my action items".
    path("postmortems/", postmortems.postmortem_list, name="postmortem_list"),
    path("action-items/", postmortems.action_item_list, name="action_item_list"),
    path("action-items/mine/", postmortems.action_item_mine, name="action_item_mine"),
    path(
        "incidents/<str:reference>/postmortem/",
        postmortems.postmortem_detail,
        name="postmortem_detail",
    ),
    path(
        "incidents/<str:reference>/postmortem/start/",
        postmortems.postmortem_start,
        name="postmortem_start",
    ),
    path(
        "incidents/<str:reference>/postmortem/edit/",
        postmortems.postmortem_edit,
        name="postmortem_edit",
    ),
    path(
        "incidents/<str:reference>/postmortem/submit/",
        postmortems.postmortem_submit,
        name="postmortem_submit",
    ),
    path(
        "incidents/<str:reference>/postmortem/publish/",
        postmortems.postmortem_publish,
        name="postmortem_publish",
    ),
    path(
        "incidents/<str:reference>/postmortem/return/",
        postmortems.postmortem_return,
        name="postmortem_return",
    ),
    path(
        "incidents/<str:reference>/postmortem/action-items/add/",
        postmortems.action_item_add,
        name="action_item_add",
    ),
    path(
        "incidents/<str:reference>/postmortem/action-items/<int:pk>/edit/",
        postmortems.action_item_edit,
        name="action_item_edit",
    ),
]
