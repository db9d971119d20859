from django.urls import path

from services.views import catalog, readiness, scorecards, slos

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
    # Readiness reviews of a service, and its exemptions from scorecard rules.
    path("services/<slug:slug>/readiness/", readiness.readiness_service, name="readiness_service"),
    path(
        "services/<slug:slug>/readiness/request/",
        readiness.readiness_review_request,
        name="readiness_review_request",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/",
        readiness.readiness_review_detail,
        name="readiness_review_detail",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/submit/",
        readiness.readiness_review_submit,
        name="readiness_review_submit",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/reviewer/",
        readiness.readiness_review_assign,
        name="readiness_review_assign",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/approve/",
        readiness.readiness_review_approve,
        name="readiness_review_approve",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/request-changes/",
        readiness.readiness_review_request_changes,
        name="readiness_review_request_changes",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/comments/",
        readiness.readiness_review_comment,
        name="readiness_review_comment",
    ),
    path(
        "services/<slug:slug>/readiness/<int:pk>/criteria/<int:item_id>/",
        readiness.readiness_review_item,
        name="readiness_review_item",
    ),
    path("services/<slug:slug>/exemptions/add/", scorecards.exemption_add, name="exemption_add"),
    path("readiness/reviews/", readiness.readiness_review_list, name="readiness_review_list"),
    # Maturity scorecards: the organisation's page, campaigns and exemptions.
    path("scorecards/", scorecards.scorecard_overview, name="scorecard_overview"),
    path("scorecards/export.csv", scorecards.scorecard_export, name="scorecard_export"),
    path("scorecards/campaigns/", scorecards.campaign_list, name="campaign_list"),
    # Before <slug>: "add" would otherwise be read as a campaign's slug.
    path("scorecards/campaigns/add/", scorecards.campaign_add, name="campaign_add"),
    path("scorecards/campaigns/<slug:slug>/", scorecards.campaign_detail, name="campaign_detail"),
    path("scorecards/campaigns/<slug:slug>/edit/", scorecards.campaign_edit, name="campaign_edit"),
    path(
        "scorecards/campaigns/<slug:slug>/delete/",
        scorecards.campaign_delete,
        name="campaign_delete",
    ),
    path("scorecards/exemptions/", scorecards.exemption_list, name="exemption_list"),
    path(
        "scorecards/exemptions/<int:pk>/approve/",
        scorecards.exemption_approve,
        name="exemption_approve",
    ),
    path(
        "scorecards/exemptions/<int:pk>/reject/",
        scorecards.exemption_reject,
        name="exemption_reject",
    ),
    path("slos/", slos.slo_list, name="slo_list"),
    path("teams/", catalog.team_list, name="team_list"),
    path("teams/add/", catalog.team_add, name="team_add"),
    path("teams/<slug:slug>/", catalog.team_detail, name="team_detail"),
    path("teams/<slug:slug>/edit/", catalog.team_edit, name="team_edit"),
    path("teams/<slug:slug>/delete/", catalog.team_delete, name="team_delete"),
    path("teams/<slug:slug>/slos/", slos.team_scorecard, name="team_scorecard"),
    path("teams/<slug:slug>/maturity/", scorecards.team_maturity, name="team_maturity"),
]
