"""Routes of the post-mortem UI: under the incident, plus the search and "my action items"."""

from django.urls import path

from incidents import postmortem_views as views

urlpatterns = [
    path("postmortems/", views.postmortem_list, name="postmortem_list"),
    path("action-items/mine/", views.action_item_mine, name="action_item_mine"),
    path(
        "incidents/<str:reference>/postmortem/",
        views.postmortem_detail,
        name="postmortem_detail",
    ),
    path(
        "incidents/<str:reference>/postmortem/start/",
        views.postmortem_start,
        name="postmortem_start",
    ),
    path(
        "incidents/<str:reference>/postmortem/edit/",
        views.postmortem_edit,
        name="postmortem_edit",
    ),
    path(
        "incidents/<str:reference>/postmortem/submit/",
        views.postmortem_submit,
        name="postmortem_submit",
    ),
    path(
        "incidents/<str:reference>/postmortem/publish/",
        views.postmortem_publish,
        name="postmortem_publish",
    ),
    path(
        "incidents/<str:reference>/postmortem/return/",
        views.postmortem_return,
        name="postmortem_return",
    ),
    path(
        "incidents/<str:reference>/postmortem/action-items/add/",
        views.action_item_add,
        name="action_item_add",
    ),
    path(
        "incidents/<str:reference>/postmortem/action-items/<int:pk>/edit/",
        views.action_item_edit,
        name="action_item_edit",
    ),
]
