from django.urls import path

from portal.profile import views

urlpatterns = [
    path("me/", views.me, name="me"),
]
