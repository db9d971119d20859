from django.urls import path

from portal.privacy import views

urlpatterns = [
    path("me/export.json", views.me_export, name="me_export"),
]
