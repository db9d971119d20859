"""Routes of the toil app's UI."""

from django.urls import path

from toil.views import changes, deployments, toil

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
    # --- change approvals, freezes, the deploy gate, deployments and DORA ---
    path("changes/", changes.change_list, name="change_list"),
    # Before <int:pk>: these are not change numbers.
    path("changes/new/", changes.change_create, name="change_create"),
    path("changes/freezes/", changes.freeze_list, name="freeze_list"),
    path("changes/freezes/new/", changes.freeze_create, name="freeze_create"),
    path("changes/freezes/<int:pk>/", changes.freeze_detail, name="freeze_detail"),
    path("changes/freezes/<int:pk>/edit/", changes.freeze_edit, name="freeze_edit"),
    path("changes/freezes/<int:pk>/delete/", changes.freeze_delete, name="freeze_delete"),
    path("changes/gate/", changes.gate_decision_list, name="gate_decision_list"),
    path("changes/gate/overrides/", changes.gate_override_list, name="gate_override_list"),
    path(
        "changes/gate/overrides/<int:pk>/revoke/",
        changes.gate_override_revoke,
        name="gate_override_revoke",
    ),
    path("changes/deployments/", deployments.deployment_list, name="deployment_list"),
    path("changes/dora/", deployments.dora_page, name="dora"),
    path("changes/<int:pk>/", changes.change_detail, name="change_detail"),
    path("changes/<int:pk>/edit/", changes.change_edit, name="change_edit"),
    path("changes/<int:pk>/delete/", changes.change_delete, name="change_delete"),
    path("changes/<int:pk>/decide/", changes.change_decide, name="change_decide"),
    path("changes/<int:pk>/checklist/", changes.change_checklist, name="change_checklist"),
    path("changes/<int:pk>/<str:move>/", changes.change_move, name="change_move"),
    path(
        "incidents/<str:reference>/cause/",
        deployments.incident_cause_update,
        name="incident_cause_update",
    ),
]
