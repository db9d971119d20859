# Django registers the models of the modules imported here; callers import each model
# from the module that defines it.
from toil.models import changes, deployments, inventory  # noqa: F401
