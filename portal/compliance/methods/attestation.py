"""The attestation method: an engineer of the owner team attests, with evidence, once per
period of the check's frequency. The check passes while the latest attestation was made in
the current period or the previous one — so a check that runs when a period starts fails
when nobody attested during the period that just ended — and fails otherwise."""

from portal.compliance.choices import Outcome
from portal.compliance.evaluation import Verdict
from portal.compliance.schedule import next_period_start, previous_period_start


def evaluate_attestation(check, latest, *, now) -> Verdict:
    """The verdict given the latest attestation of the check on the service (or None)."""
    since = previous_period_start(check.frequency, now)
    if latest is not None and latest.attested_at >= since:
        person = latest.attested_by
        who = (person.get_full_name() or person.username) if person else "a former member"
        evidence = {
            "attestation": latest.pk,
            "evidence_url": latest.evidence_url,
            "note": latest.note,
        }
        return Verdict(
            Outcome.PASS,
            f"Attested by {who} on {latest.attested_at:%Y-%m-%d}.",
            evidence=evidence,
        )
    due = next_period_start(check.frequency, now)
    last = f" (last on {latest.attested_at:%Y-%m-%d})" if latest is not None else ""
    return Verdict(
        Outcome.FAIL,
        f"No attestation since {since:%Y-%m-%d}{last}; due by {due:%Y-%m-%d}.",
        evidence={"since": since.isoformat()},
    )
