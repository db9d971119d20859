from django.urls import path

from portal.privacy import views

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/export.json", views.me_export, name="me_export"),
]
