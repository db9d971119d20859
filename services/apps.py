from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "Service catalog"

    def ready(self):
        from portal.metrics import register_collector
        from services.checks import catalog  # noqa: F401 - registers the catalog's checks
        from services.metrics import CatalogCollector, SLOCollector

        register_collector(CatalogCollector())
        register_collector(SLOCollector())
