# The admin site registers the pages of the modules imported here; no business logic lives in
# them (writes go through services.actions).
from services.admin import catalog, readiness, scorecards, slos  # noqa: F401
