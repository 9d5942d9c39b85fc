"""What recognition asks of the code sets: the calls guideline.terminology.Terminology answers, named here so that
recognition never imports the terminology that asks it where a medication belongs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from guideline.fhirdata import Coding, Concept
from guideline.record import ResolvedMedication


class DrugRow(Protocol):
    """One opioid-ingredient row of the RxNorm drug table, as recognition reads it."""

    @property
    def ingredient_rxcui(self) -> str: ...

    @property
    def drug_name(self) -> str: ...

    @property
    def dose_form(self) -> str: ...

    @property
    def route(self) -> str: ...


class CodeSets(Protocol):
    """Code-set membership, drug-table rows and display names for one configuration."""

    # Hashable: the recognisers remember their answers per code sets (lru_cache in guideline.recognition.classify).
    def __hash__(self) -> int: ...

    def contains(self, set_name: str, concept: Concept | None) -> bool: ...

    def medication_in_by_code(self, set_name: str, medication: ResolvedMedication) -> bool: ...

    def knows_medication(self, medication: ResolvedMedication) -> bool: ...

    def codes(self, set_name: str) -> frozenset[tuple[str, str]]: ...

    def display(self, system: str, code: str) -> str | None: ...

    def drug_rows(self, rxcui: str) -> Sequence[DrugRow]: ...

    def rxnorm_codings(self, concept: Concept | None) -> tuple[Coding, ...]: ...

    def medication_name(self, medication: ResolvedMedication) -> str: ...

    @property
    def ingredient_code_aliases(self) -> Mapping[str, str]: ...
