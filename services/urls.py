from django.urls import path

from services import views

urlpatterns = [
    path("services/", views.service_list, name="service_list"),
    path("services/add/", views.service_add, name="service_add"),
    # Before <slug>: "import" would otherwise be read as a service's slug.
    path("services/import/", views.backstage_import, name="backstage_import"),
    path("services/<slug:slug>/", views.service_detail, name="service_detail"),
    path("services/<slug:slug>/edit/", views.service_edit, name="service_edit"),
    path("services/<slug:slug>/delete/", views.service_delete, name="service_delete"),
    # Before <slo_slug>: "add" would otherwise be read as an SLO's slug.
    path("services/<slug:service_slug>/slos/add/", views.slo_add, name="slo_add"),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/",
        views.slo_detail,
        name="slo_detail",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/edit/",
        views.slo_edit,
        name="slo_edit",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/delete/",
        views.slo_delete,
        name="slo_delete",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/maintenance/add/",
        views.maintenance_window_add,
        name="maintenance_window_add",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/maintenance/<int:pk>/delete/",
        views.maintenance_window_delete,
        name="maintenance_window_delete",
    ),
    path("slos/", views.slo_list, name="slo_list"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/add/", views.team_add, name="team_add"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/edit/", views.team_edit, name="team_edit"),
    path("teams/<slug:slug>/delete/", views.team_delete, name="team_delete"),
    path("teams/<slug:slug>/slos/", views.team_scorecard, name="team_scorecard"),
]
