"""The one identity of the order a fill names, wherever a fill's authorizingPrescription is compared."""

from __future__ import annotations

from guideline.record.pool import order_keys


def prescription_named(ref: str, fill: str | None, kind: str = "MedicationRequest") -> str | None:
    """The order a fill's authorizingPrescription names, as the reader located it (`pool.located_reference`), as one
    key: the EHR's as `MedicationRequest/<id>` (relative, versioned or a sandbox's bare id), another server's whole
    (`https://hie.example/fhir/MedicationRequest/123`), as `pool.order_keys` matches an order; one contained in the
    fill ("#rx1") as that fill's own (`<fill>#rx1`), since a contained id means something only inside its resource,
    and None with no fill to tie it to. Made relative, the HIE's order 123 was the EHR's order 123: its fill was
    dropped as the EHR's fill sent twice, or queued behind it as one prescription."""
    if ref.startswith("#"):
        return f"{fill}{ref}" if fill else None
    return next((key for key in order_keys(ref, kind) if key and "/" in key), ref or None)
