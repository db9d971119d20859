"""Routes of the toil app's UI."""

from django.urls import path

from toil.views import toil

urlpatterns = [
    # The toil inventory, logged time and the teams' toil against the cap.
    path("toil/", toil.toil_item_list, name="toil_item_list"),
    path("toil/add/", toil.toil_item_add, name="toil_item_add"),
    path("toil/import/", toil.toil_import_view, name="toil_import"),
    path("toil/export.csv", toil.toil_export, name="toil_export"),
    path("toil/items/<int:pk>/", toil.toil_item_detail, name="toil_item_detail"),
    path("toil/items/<int:pk>/row/", toil.toil_item_row, name="toil_item_row"),
    path("toil/items/<int:pk>/edit/", toil.toil_item_edit, name="toil_item_edit"),
    path("toil/items/<int:pk>/delete/", toil.toil_item_delete_view, name="toil_item_delete"),
    path("toil/log/", toil.toil_entry_mine, name="toil_entry_mine"),
    path("toil/log/add/", toil.toil_entry_add, name="toil_entry_add"),
    path("toil/log/<int:pk>/delete/", toil.toil_entry_delete_view, name="toil_entry_delete"),
    path("toil/by-team/", toil.toil_team_list, name="toil_team_list"),
    path("toil/by-team/<slug:slug>/", toil.toil_team_detail, name="toil_team_detail"),
    path("toil/by-team/<slug:slug>/capacity/", toil.toil_team_capacity, name="toil_team_capacity"),
]
