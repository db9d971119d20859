# The admin site's autodiscovery imports toil.admin: the modules imported here register their
# models; callers import from the module that defines a name.
from toil.admin import changes  # noqa: F401
