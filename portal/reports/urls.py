from django.urls import path

from portal.reports import views

urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    # Before <scope>: these would otherwise be read as a scope.
    path("reports/subscriptions/add/", views.subscription_add, name="report_subscription_add"),
    path(
        "reports/subscriptions/remove/",
        views.subscription_remove,
        name="report_subscription_remove",
    ),
    path("reports/unsubscribe/<str:token>/", views.report_unsubscribe, name="report_unsubscribe"),
    path("reports/<slug:scope>/<str:month>/", views.report_detail, name="report_detail"),
    path("reports/<slug:scope>/<str:month>/email/", views.report_email, name="report_email"),
    path(
        "reports/<slug:scope>/<str:month>/images/<slug:name>.png",
        views.report_image,
        name="report_image",
    ),
    path(
        "reports/<slug:scope>/<str:month>/regenerate/",
        views.report_regenerate_view,
        name="report_regenerate",
    ),
    path("reports/<slug:scope>/<str:month>/copy/", views.report_copy_view, name="report_copy"),
]
