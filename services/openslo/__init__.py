"""OpenSLO v1 documents to SLOs and back: parse and validate, import all or nothing, export.

Two steps, so that a bad file writes nothing: `parse_sources` turns the YAML documents into
plain SLO definitions and stops at the first problem with a message naming the source, the
document (1-based, counting every document of the file) and the field; `import_definitions`
then resolves services and budget policies and writes everything in one transaction through
services.actions, or nothing.

How an OpenSLO `kind: SLO` lands on an SLO (and how `export_yaml` writes it back):

- metadata.name → slug, metadata.displayName → name (else the slug), metadata.labels → labels,
  spec.description → description, spec.service → the catalog service with that slug, which
  must exist. An import matches SLOs by (service, slug): re-importing updates, never duplicates.
- The indicator, inline (spec.indicator) or a `kind: SLI` document of the same import named by
  spec.indicatorRef, is a ratioMetric: good or bad, and total, each
  `metricSource: {type: Prometheus, spec: {query: ...}}` with a Sloth-form query (events per
  second, `{{.window}}` where the range goes).
- spec.timeWindow: one rolling window of whole days (28d, 4w) or one calendar month
  (isRolling: false, duration: 1M, calendar: {startTime, timeZone}); calendar windows run from
  midnight on the 1st in calendar.timeZone, so startTime is checked but not stored.
- spec.budgetingMethod Occurrences or Timeslices; one objective with target (0.999) or
  targetPercent (99.9), and for timeslices timeSliceTarget (0.95) and timeSliceWindow (5m).
- What OpenSLO has no field for travels in metadata.annotations: reliability-portal/sli-kind
  (default availability), reliability-portal/budget-policy (a policy slug; default: the default
  policy) and, for rolling windows, reliability-portal/time-zone of the monthly history
  (default UTC). A document describes its SLO whole: what it leaves out takes the default.
- Service, DataSource and alerting documents are read past; any other kind is an error.
- Maintenance windows have no OpenSLO form: an export leaves them out, an import keeps them.
"""
