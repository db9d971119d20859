from portal.compliance.models import checks, findings, runs  # noqa: F401 - registers the models
