"""Writes to the services app: keyword-only, validated, atomic. One module per concern:
services.actions.catalog (services, teams, memberships, tags), services.actions.slos (SLO
definitions, maintenance windows, budget policies) and services.actions.sli (SLI data, its
sync from Prometheus and pushes, and the status snapshots); callers import each
name from the module that defines it. Tunables (batch sizes and the like) stay in their
module, where tests and benchmarks set them."""
