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
    path("teams/", views.team_list, name="team_list"),
    path("teams/add/", views.team_add, name="team_add"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/edit/", views.team_edit, name="team_edit"),
    path("teams/<slug:slug>/delete/", views.team_delete, name="team_delete"),
]
