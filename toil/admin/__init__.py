# Django's admin registers the models of the modules imported here (as a models package's
# __init__ does for models); callers import each admin class from the module defining it.
from toil.admin import changes, toil  # noqa: F401
