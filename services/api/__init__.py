"""REST API: the catalog's resources in catalog.py, SLOs and budget policies in slos.py."""
