from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "portal.compliance"
    label = "compliance"
    verbose_name = "Compliance checks"

    def ready(self):
        from portal.compliance.metrics import ComplianceCollector
        from portal.metrics import register_collector

        register_collector(ComplianceCollector())
