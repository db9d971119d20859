from django.urls import path

from portal.reminders import views

urlpatterns = [
    path("me/digest/off/<str:token>/", views.digest_off, name="digest_off"),
]
