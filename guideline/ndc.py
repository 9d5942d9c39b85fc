"""National Drug Codes in one form: the 11-digit 5-4-2 code that claims use, whatever form a chart wrote."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The three 10-digit layouts, by where the hyphens fall, and the zero each needs to reach 5-4-2. Some pharmacy systems
# print spaces where the hyphens go ("0406 0512 01"); one separator throughout, never a mix.
_HYPHENATED = re.compile(r"^(\d{4,5})([- ])(\d{3,4})\2(\d{1,2})$")
# A product code without its package code: labeler and product, 4-4, 5-3 or 5-4, or the nine digits of 5-4.
_PRODUCT = re.compile(r"^(\d{4,5})[- ](\d{3,4})$")
# The X12 / NCPDP product ID qualifier "N4" (an NDC) that 837 and 835 claims write in front of the code, and that
# some claims-to-FHIR feeds leave in place ("N400406052301", "N4 00406-0523-01").
_QUALIFIER = re.compile(r"^N4 ?", re.IGNORECASE)


def _unqualified(code: str) -> str:
    """The code without blanks around it and without the N4 qualifier."""
    return _QUALIFIER.sub("", code.strip())


def ndc11(code: str | None) -> str | None:
    """The 11-digit form of an NDC ("0406-0512-01", "0406 0512 01", "N400406051201" and "00406-0512-01" are
    "00406051201"); None when the text is no NDC or its layout is ambiguous (ten digits without separators could be
    any of three layouts: `NdcCrosswalk` reads them against a crosswalk)."""
    if not code:
        return None
    text = _unqualified(code)
    parts = _HYPHENATED.match(text)
    if parts:
        labeler, _, product, package = parts.groups()
        if len(labeler) + len(product) + len(package) not in (10, 11):
            return None
        return labeler.zfill(5) + product.zfill(4) + package.zfill(2)
    if len(text) == 11 and text.isdigit():
        return text
    return None


def ten_digit_readings(code: str) -> tuple[str, ...]:
    """The 11-digit NDCs ten digits without separators may be (4-4-2, 5-3-2, 5-4-1); none for any other text."""
    text = _unqualified(code)
    if len(text) != 10 or not text.isdigit():
        return ()
    return ("0" + text, text[:5] + "0" + text[5:], text[:9] + "0" + text[9:])


def product_code(code: str) -> str | None:
    """The 9-digit (5-4) product code of an NDC written without its package code ("0406-0523", "00406-0523",
    "004060523" are "004060523"); None for any other text."""
    text = _unqualified(code)
    if len(text) == 9 and text.isdigit():
        return text
    parts = _PRODUCT.match(text)
    if parts is None or len(parts[1]) + len(parts[2]) not in (8, 9):
        return None
    return parts[1].zfill(5) + parts[2].zfill(4)


@dataclass(frozen=True)
class NdcMatch:
    """What an NDC is in a crosswalk: its 11-digit form (None when none), or ambiguous (more than one product)."""

    ndc: str | None = None
    ambiguous: bool = False


_NO_MATCH = NdcMatch()
_AMBIGUOUS = NdcMatch(ambiguous=True)


@dataclass(frozen=True)
class NdcCrosswalk:
    """A site's crosswalk (11-digit NDC → RxNorm code), read in the short forms claims write an NDC in too."""

    rxnorm: Mapping[str, str]
    packages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # product code → its crosswalk NDCs

    @classmethod
    def of(cls, rxnorm: Mapping[str, str]) -> NdcCrosswalk:
        """The crosswalk with its NDCs listed by product."""
        packages: dict[str, list[str]] = {}
        for ndc in sorted(rxnorm):
            if len(ndc) == 11 and ndc.isdigit():
                packages.setdefault(ndc[:9], []).append(ndc)
        return cls(rxnorm, {product: tuple(ndcs) for product, ndcs in packages.items()})

    def match(self, code: str | None) -> NdcMatch:
        """The 11-digit NDC a code stands for: its own when its layout says it (in the crosswalk or not); for ten bare
        digits, a reading of its three layouts the crosswalk holds, and for a product code, a package of it in the
        crosswalk, when all it may mean map to one RxNorm code; ambiguous when they map to more than one."""
        if not code:
            return _NO_MATCH
        eleven = ndc11(code)
        if eleven is not None:
            return NdcMatch(eleven)
        readings = [ndc for ndc in ten_digit_readings(code) if ndc in self.rxnorm]
        if readings:
            # Three labelers' codes share the ten digits: which one was meant is not guessed, unless all are one drug.
            return self._one_drug(readings)
        return self._one_drug(self.packages.get(product_code(code) or "", ()))

    def _one_drug(self, candidates: Sequence[str]) -> NdcMatch:
        """Any of the crosswalk's NDCs a short form may mean when every one maps to the same RxNorm code (which of
        them was meant changes nothing); ambiguous when they map apart; no match when there are none."""
        if not candidates:
            return _NO_MATCH
        return NdcMatch(candidates[0]) if len({self.rxnorm[ndc] for ndc in candidates}) == 1 else _AMBIGUOUS
