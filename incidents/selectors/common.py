"""What the incident selectors share across their modules."""

#: The incident's four roles, as named on Incident.
ROLE_FIELDS = ("commander", "tech_lead", "communications_lead", "scribe")
