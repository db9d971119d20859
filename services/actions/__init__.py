"""Writes to the services app: keyword-only, validated, atomic. One module per concern:
services.actions.catalog (services, teams, memberships, tags), services.actions.slos (SLO
definitions, maintenance windows, budget policies) and services.actions.sli (pushes, the sync
from Prometheus, dirty SLOs and the recompute of their snapshots; the SLI data itself lives in
services.sli); callers import each name from the module that defines it. Tunables (batch sizes
and the like) stay in their module, where tests and benchmarks set them."""
