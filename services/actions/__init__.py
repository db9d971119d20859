"""Writes to the services app: keyword-only, validated, atomic. One module per concern:
services.actions.catalog (services, teams, memberships, tags), services.actions.slos (SLO
definitions, maintenance windows, budget policies), services.actions.sli (pushes and the sync
from Prometheus; the SLI data itself lives in services.sli) and services.actions.statuses
(dirty SLOs, the recompute of their snapshots, staleness); callers import each name from the
module that defines it. Tunables (batch sizes and the like) stay in their module, where tests
and benchmarks set them."""
