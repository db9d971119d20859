from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and post-mortems"

    def ready(self):
        from incidents import readiness_checks

        readiness_checks.register()
