"""The resources section: the site's patient resources, guideline links and the PDMP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from guideline.config import GuidelineConfig

LINK_LABELS: tuple[tuple[str, str], ...] = (
    ("rec1", "Rec 1: non-opioid therapies first"),
    ("rec2", "Rec 2: goals and treatment plan"),
    ("rec4", "Rec 4: immediate-release first, lowest dose"),
    ("rec5", "Rec 5: continuing or tapering"),
    ("rec7", "Rec 7: reassess benefits and harms"),
    ("rec8", "Rec 8: naloxone and risk mitigation"),
    ("rec9", "Rec 9: check the PDMP"),
    ("rec10", "Rec 10: toxicology testing"),
    ("rec11", "Rec 11: avoid opioids with benzodiazepines"),
    ("rec12", "Rec 12: treat opioid use disorder"),
    ("taper_calculator", "Washington State taper calculator"),
)


@dataclass(frozen=True)
class Resources:
    entries: tuple[Mapping[str, str], ...]
    links: tuple[tuple[str, str], ...]
    pdmp: Mapping[str, str]


def build_resources(config: GuidelineConfig) -> Resources:
    links = tuple((label, config["links"][key]) for key, label in LINK_LABELS if config["links"].get(key))
    return Resources(tuple(config["resources"]), links, dict(config["pdmp"]))
