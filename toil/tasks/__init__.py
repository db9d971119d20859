# Celery's autodiscovery imports toil.tasks: the modules imported here register their tasks;
# callers import from the module that defines a name.
from toil.tasks import changes, toil  # noqa: F401
