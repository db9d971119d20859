"""What toil hears from the incidents app, which knows nothing of deployments: a saved
incident that a deployment caused changes that deployment's DORA figures (its recovery
time), and a deployment deleted with its service changes its month's."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from incidents.models.incidents import Incident
from toil.models.deployments import Deployment


@receiver(post_save, sender=Incident, dispatch_uid="toil_dora_incident_saved")
def incident_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from toil.actions.deployments import incidents_changed

    incidents_changed([instance.pk])


@receiver(post_delete, sender=Deployment, dispatch_uid="toil_dora_deployment_deleted")
def deployment_deleted(sender, instance, **kwargs):
    from toil.actions.deployments import dora_months_mark
    from toil.choices.changes import PRODUCTION

    if instance.environment == PRODUCTION:  # the only deployments DORA counts
        dora_months_mark([instance.finished_at])
