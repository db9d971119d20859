# Django registers the models of the modules imported here; callers import each model
# from the module that defines it.
from services.models import catalog, readiness, scorecards, slos  # noqa: F401
