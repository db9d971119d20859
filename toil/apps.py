from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ToilConfig(AppConfig):
    """Toil inventory, change requests and approvals, and the deploy gate."""

    name = "toil"
    verbose_name = "Toil and changes"

    def ready(self):
        # Incidents and memberships cannot know about toil (it depends on them): the toil
        # figures they move are marked for recompute when they are saved. The receivers of
        # toil.signals.changes (deployments' DORA figures) connect when that module is imported.
        from incidents.models.incidents import Incident
        from services.models.catalog import Membership
        from toil.actions.toil import incident_saved, membership_changed
        from toil.signals import changes  # noqa: F401

        post_save.connect(incident_saved, sender=Incident, dispatch_uid="toil-incident-saved")
        post_save.connect(
            membership_changed, sender=Membership, dispatch_uid="toil-membership-saved"
        )
        post_delete.connect(
            membership_changed, sender=Membership, dispatch_uid="toil-membership-deleted"
        )
