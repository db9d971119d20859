"""Import Backstage catalog files (catalog-info.yaml) into the service catalog.

Two steps, so that a bad file writes nothing: `parse_sources` turns the YAML documents into
plain entity records and stops at the first problem with a message naming the source, the
document number (1-based, counting every document of the file) and the field; `import_sources`
then resolves references against the catalog and writes everything in one transaction,
through services.actions.

How Backstage entities land in the catalog:

- Group → Team: slug from metadata.name, name from metadata.title (else spec.profile.displayName,
  else metadata.name), description, email from spec.profile.email, backstage_ref
  "group:<namespace>/<name>". spec.members become engineer memberships for people who have a
  portal account; the others are reported, never created.
- User → engineer memberships, in each team of spec.memberOf, for the portal user with the
  same username; users without an account are reported and skipped.
- Component → Service: slug from metadata.name, name from metadata.title (else metadata.name),
  description, spec.type → kind, spec.system → system and the tag "system:<name>",
  metadata.tags → tags. spec.owner ("team-a", "group:team-a" or "group:default/team-a") must
  name a Group of this import or a team of the catalog (by backstage_ref or slug).
  spec.lifecycle, which Backstage leaves open, maps to the portal's three stages:

      production   → production
      experimental → experimental
      deprecated   → deprecated
      anything else (development, beta, …) → experimental: it is not in production yet

  Links and annotations fill the link fields; the first source that has a value wins:
  repository ← backstage.io/source-location ("url:…"), github.com/project-slug, a link titled
  or typed like a repository; runbook ← a runbook link, backstage.io/techdocs-ref ("url:…");
  dashboard ← a dashboard link; on-call ← an on-call or pager link. pagerduty.com/service-id →
  the PagerDuty id, reliability-portal/tier ("1", "2" or "3") → the tier. spec.dependsOn
  entries that name components become dependencies; resource: and api: entries are counted
  and ignored.
- System → the tag "system:<name>", the one its components carry; not a service.
- API, Resource, Location, Template and Domain are not services: skipped and counted. Any
  other kind is counted as unknown. Only the kinds imported are held to the backstage.io
  apiVersions: skipped kinds have their own (a Template is scaffolder.backstage.io/v1beta3).

Re-importing matches teams and services by backstage_ref, then by slug, and never duplicates.
What an entity always describes (names, description, owner, lifecycle, type, system, tags,
dependencies) is overwritten; what catalogs often leave out (team email, links, PagerDuty id,
tier) is overwritten only when present, so values entered in the portal survive. Services
that an earlier import took from the same sources and that are gone from them are reported in
`ImportReport.missing` and kept: retiring a service is a decision for a person. Teams record
no source, so a vanished Group cannot be reported.
"""
