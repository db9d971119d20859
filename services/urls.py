from django.urls import path

from services.views import catalog, slos

urlpatterns = [
    path("services/", catalog.service_list, name="service_list"),
    path("services/add/", catalog.service_add, name="service_add"),
    # Before <slug>: "import" would otherwise be read as a service's slug.
    path("services/import/", catalog.backstage_import, name="backstage_import"),
    path("services/<slug:slug>/", catalog.service_detail, name="service_detail"),
    path("services/<slug:slug>/edit/", catalog.service_edit, name="service_edit"),
    path("services/<slug:slug>/delete/", catalog.service_delete, name="service_delete"),
    # Before <slo_slug>: "add" would otherwise be read as an SLO's slug.
    path("services/<slug:service_slug>/slos/add/", slos.slo_add, name="slo_add"),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/",
        slos.slo_detail,
        name="slo_detail",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/edit/",
        slos.slo_edit,
        name="slo_edit",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/delete/",
        slos.slo_delete,
        name="slo_delete",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/maintenance/add/",
        slos.maintenance_window_add,
        name="maintenance_window_add",
    ),
    path(
        "services/<slug:service_slug>/slos/<slug:slo_slug>/maintenance/<int:pk>/delete/",
        slos.maintenance_window_delete,
        name="maintenance_window_delete",
    ),
    path("slos/", slos.slo_list, name="slo_list"),
    path("teams/", catalog.team_list, name="team_list"),
    path("teams/add/", catalog.team_add, name="team_add"),
    path("teams/<slug:slug>/", catalog.team_detail, name="team_detail"),
    path("teams/<slug:slug>/edit/", catalog.team_edit, name="team_edit"),
    path("teams/<slug:slug>/delete/", catalog.team_delete, name="team_delete"),
    path("teams/<slug:slug>/slos/", slos.team_scorecard, name="team_scorecard"),
]
