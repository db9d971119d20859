from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from incidents.api import incidents as incidents_api
from incidents.api import postmortems as postmortem_api
from incidents.api.intake import AlertmanagerWebhookView
from portal import health, metrics
from portal.compliance import api as compliance_api
from portal.home.views import home
from portal.reminders.api import DigestPreferenceView
from portal.reports import api as reports_api
from services.api import interchange as interchange_api
from services.api.catalog import MembershipViewSet, ServiceViewSet, TagViewSet, TeamViewSet
from services.api.readiness import ChecklistViewSet, ReviewViewSet
from services.api.scorecards import (
    CampaignViewSet,
    ExemptionViewSet,
    ScorecardResultViewSet,
    ScorecardViewSet,
)
from services.api.slos import BudgetPolicyViewSet, SLOViewSet
from toil.api import changes as changes_api
from toil.api import deployments as deployments_api
from toil.api import gate as gate_api
from toil.api import toil as toil_api

handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"

router = DefaultRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("tags", TagViewSet, basename="tag")
router.register("services", ServiceViewSet, basename="service")
router.register("slos", SLOViewSet, basename="slo")
router.register("budget-policies", BudgetPolicyViewSet, basename="budgetpolicy")
router.register("readiness-checklists", ChecklistViewSet, basename="readinesschecklist")
router.register("readiness-reviews", ReviewViewSet, basename="readinessreview")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("scorecard-results", ScorecardResultViewSet, basename="scorecardresult")
router.register("exemptions", ExemptionViewSet, basename="exemption")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("incidents", incidents_api.IncidentViewSet, basename="incident")
router.register("postmortems", postmortem_api.PostMortemViewSet, basename="postmortem")
router.register("action-items", postmortem_api.ActionItemViewSet, basename="actionitem")
# Change approvals, the deploy gate and deployments (toil).
router.register("changes", changes_api.ChangeViewSet, basename="change")
router.register("freeze-windows", changes_api.FreezeWindowViewSet, basename="freezewindow")
router.register("gate-decisions", gate_api.GateDecisionViewSet, basename="gatedecision")
router.register("gate-overrides", gate_api.GateOverrideViewSet, basename="gateoverride")
router.register("deployments", deployments_api.DeploymentViewSet, basename="deployment")
router.register("incident-causes", deployments_api.IncidentCauseViewSet, basename="incidentcause")
router.register("toil-items", toil_api.ToilItemViewSet, basename="toilitem")
router.register("toil-entries", toil_api.ToilEntryViewSet, basename="toilentry")
router.register("toil-months", toil_api.TeamToilMonthViewSet, basename="teamtoilmonth")
router.register(
    "compliance-checks", compliance_api.ComplianceCheckViewSet, basename="compliancecheck"
)
router.register(
    "compliance-results", compliance_api.ComplianceResultViewSet, basename="complianceresult"
)
router.register(
    "compliance-findings", compliance_api.ComplianceFindingViewSet, basename="compliancefinding"
)
router.register("reports", reports_api.ReportViewSet, basename="report")
router.register(
    "report-subscriptions", reports_api.ReportSubscriptionViewSet, basename="reportsubscription"
)

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's set-up script as a file of its own: the
    # Content-Security-Policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path(
        "api/alerts/alertmanager/",
        AlertmanagerWebhookView.as_view(),
        name="alertmanager_webhook",
    ),
    # Before the router: /api/slos/<pk>/ would otherwise read these as an SLO's id.
    path(
        "api/slos/prometheus-rules/",
        interchange_api.PrometheusRulesView.as_view(),
        name="slo_prometheus_rules",
    ),
    path("api/slos/openslo/", interchange_api.OpenSLOView.as_view(), name="slo_openslo"),
    path("api/deploy-gate/", gate_api.DeployGateView.as_view(), name="deploy_gate"),
    path("api/dora/", deployments_api.DoraView.as_view(), name="dora_api"),
    path("api/teams/<int:pk>/toil/", toil_api.TeamToilView.as_view(), name="team_toil"),
    path("api/me/digest/", DigestPreferenceView.as_view(), name="me_digest_api"),
    path("api/", include(router.urls)),
    path("", include("services.urls")),
    path("", include("incidents.urls")),
    path("", include("toil.urls")),
    path("", include("portal.compliance.urls")),
    path("", include("portal.privacy.urls")),
    path("", include("portal.profile.urls")),
    path("", include("portal.reminders.urls")),
    path("", include("portal.reports.urls")),
]
