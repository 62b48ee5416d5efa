"""Destroy on time and prove it (convention, article 2): the purge (`purge`), the
attestation it drafts (`attestation_pdf`), its signature by a signatory (`signing`,
`attestations`) and the convention's end (`convention`)."""

from __future__ import annotations

from intake.retention.purge import PurgeOutcome, Retention

__all__ = ["PurgeOutcome", "Retention"]
