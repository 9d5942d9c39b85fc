"""The drugs a urine test reports on one by one (guideline 10.4), beyond the CDC's class sets, and the prescriptions
that explain each: a drug leaves itself and its metabolites in urine, so a result for a metabolite is explained by
the drug it comes from.

`guideline/data/uds-analytes.csv` says which analyte each urine drug test code reports on (one row per code of the
urine drug test sets that no CDC class set judges); this table says how each analyte is judged. Ingredients are named
as RxNorm names them; `terminology` builds each row's medication sets from the packaged drug table and value sets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Analyte:
    """One analyte row: the substance it is named as, the ingredients whose prescription (or dose given) explains a
    positive, and those whose prescription makes a negative unexpected (empty: a negative is never unexpected)."""

    key: str  # the analyte table's name for the row
    substance: str  # what the card and the plan page call it (and the name a site lists its negatives by)
    explained_by: tuple[str, ...]
    negative_for: tuple[str, ...] = ()


def _metabolite(parent: Analyte) -> Analyte:
    """The row of a drug's metabolites (nortapentadol, 7-aminoclonazepam): named and explained as the drug, but its
    absence is never unexpected, since many metabolites are minor and below the cutoff in a patient taking the drug
    (a result naming the drug and its metabolite together is the drug's own)."""
    return Analyte(f"{parent.key}-metabolite", parent.substance, parent.explained_by)


def _own(key: str) -> Analyte:
    """A drug that is no metabolite of another: its own prescription explains a positive and makes a negative
    unexpected."""
    return Analyte(key, key, (key,), (key,))


# Metabolites, kept to well-documented pathways (a missing pathway gives a result to discuss, never a hidden one):
#   codeine -> morphine (major), hydrocodone (minor); opium holds morphine and codeine; heroin -> 6-MAM -> morphine
#   morphine -> hydromorphone (minor); hydrocodone -> hydromorphone, norhydrocodone, dihydrocodeine (6-alpha-hydrocodol)
#   oxycodone -> oxymorphone, noroxycodone, noroxymorphone; oxymorphone -> noroxymorphone
#   benzhydrocodone is a prodrug of hydrocodone
#   diazepam -> nordiazepam, temazepam, oxazepam; temazepam -> oxazepam; chlordiazepoxide, clorazepate, prazepam,
#   halazepam and medazepam -> nordiazepam -> oxazepam; flurazepam and quazepam -> N-desalkylflurazepam
#   phendimetrazine -> phenmetrazine; carisoprodol -> meprobamate; zopiclone and eszopiclone -> zopiclone N-oxide,
#   2-amino-5-chloropyridine
# A result for a metabolite is never unexpected for its absence: a minor metabolite is often below the cutoff.
_HYDROCODONE = ("hydrocodone", "benzhydrocodone")
_NORDIAZEPAM_SOURCES = ("diazepam", "chlordiazepoxide", "clorazepate", "prazepam", "halazepam", "medazepam")

# Benzodiazepines, by drug (`CLASS_MEMBERS`: the drugs a lab's "benzodiazepines" stands for).
_BENZODIAZEPINES: tuple[Analyte, ...] = (
    _own("alprazolam"),
    _own("clonazepam"),
    Analyte("diazepam", "diazepam", ("diazepam",), ("diazepam",)),
    Analyte("nordiazepam", "nordiazepam", _NORDIAZEPAM_SOURCES),
    Analyte("oxazepam", "oxazepam", ("oxazepam", "temazepam", *_NORDIAZEPAM_SOURCES), ("oxazepam",)),
    Analyte("temazepam", "temazepam", ("temazepam", "diazepam"), ("temazepam",)),
    _own("lorazepam"),
    _own("chlordiazepoxide"),
    _own("clobazam"),
    _own("clorazepate"),
    _own("midazolam"),
    _own("triazolam"),
    _own("estazolam"),
    _own("flurazepam"),
    Analyte("desalkylflurazepam", "desalkylflurazepam", ("flurazepam", "quazepam")),
    _own("bromazepam"),
    _own("flunitrazepam"),
    _own("nitrazepam"),
    _own("lormetazepam"),
    _own("medazepam"),
    _own("prazepam"),
    _own("zolazepam"),
)

_PARENTS: tuple[Analyte, ...] = (
    # opioids
    Analyte("morphine", "morphine", ("morphine", "codeine", "opium", "heroin", "diamorphine"), ("morphine",)),
    Analyte("codeine", "codeine", ("codeine", "opium"), ("codeine",)),
    Analyte("hydrocodone", "hydrocodone", (*_HYDROCODONE, "codeine"), _HYDROCODONE),
    Analyte("hydromorphone", "hydromorphone", ("hydromorphone", *_HYDROCODONE, "morphine"), ("hydromorphone",)),
    Analyte("oxymorphone", "oxymorphone", ("oxymorphone", "oxycodone"), ("oxymorphone",)),
    # The CDC oxycodone screen that also reads oxymorphone: either explains it; only oxycodone's absence is
    # unexpected, as for the CDC's other oxycodone tests.
    Analyte("oxycodone+oxymorphone", "oxycodone", ("oxycodone", "oxymorphone"), ("oxycodone",)),
    Analyte("dihydrocodeine", "dihydrocodeine", ("dihydrocodeine", *_HYDROCODONE), ("dihydrocodeine",)),
    _own("tapentadol"),
    _own("tramadol"),
    _own("meperidine"),
    _own("propoxyphene"),
    _own("levorphanol"),
    _own("butorphanol"),
    _own("pentazocine"),
    _own("nalbuphine"),
    _own("alfentanil"),
    _own("sufentanil"),
    # Opioids sold in no US product (some have RxNorm codes from abroad): a prescription PainPlan knows explains them.
    _own("alphaprodine"),
    _own("anileridine"),
    _own("dextromoramide"),
    _own("dipipanone"),
    _own("ethylmorphine"),
    _own("nicomorphine"),
    _own("trimeperidine"),
    _own("desomorphine"),
    # A precursor of illicit fentanyl and a minor metabolite of fentanyl: explained by fentanyl, never missed.
    Analyte("despropionylfentanyl", "despropionylfentanyl", ("fentanyl",)),
    Analyte("oxycodone", "oxycodone", ("oxycodone",), ("oxycodone",)),  # for its metabolites (the CDC row is used)
    # Never prescribed: illicit fentanyl analogues and the novel synthetic opioids (nitazenes, U-47700, brorphine,
    # AH-7921, MT-45, and the W-series the CDC groups with them). Both are an overdose risk factor, as fentanyl is.
    Analyte("fentanyl-analogue", "fentanyl-analogue", ()),
    Analyte("synthetic-opioid", "synthetic-opioid", ()),
    # Medications for opioid use disorder and rescue: their absence is no opioid missed (naltrexone also rides
    # sequestered in some opioid capsules, naloxone in buprenorphine/naloxone), so a negative is never unexpected.
    Analyte("naltrexone", "naltrexone", ("naltrexone",)),
    Analyte("naloxone", "naloxone", ("naloxone",)),
    *_BENZODIAZEPINES,
    # other sedatives and stimulants with a packaged medication set
    _own("zolpidem"),
    _own("eszopiclone"),
    Analyte("zopiclone", "zopiclone", ("zopiclone", "eszopiclone"), ("zopiclone",)),  # eszopiclone is S-zopiclone
    _own("carisoprodol"),
    # the test of both: named as carisoprodol, explained by either (as the oxycodone+oxymorphone tests are)
    Analyte("carisoprodol+meprobamate", "carisoprodol", ("carisoprodol", "meprobamate"), ("carisoprodol",)),
    Analyte("meprobamate", "meprobamate", ("meprobamate", "carisoprodol"), ("meprobamate",)),
    _own("phentermine"),
    Analyte("phenmetrazine", "phenmetrazine", ("phenmetrazine", "phendimetrazine")),
    _own("diethylpropion"),
    _own("fenfluramine"),
    _own("mephentermine"),
    # never prescribed
    Analyte("synthetic-cathinone", "synthetic-cathinone", ()),
    Analyte("hallucinogen", "hallucinogen", ()),
)
# The drugs (row keys) a class word of a lab's words stands for ("All negative except opiates",
# `guideline.uds_names.with_class_members`): an opiate immunoassay reads morphine and codeine, heroin (as morphine),
# and hydrocodone and hydromorphone (guideline 10.4), not oxycodone, fentanyl or methadone; "benzodiazepines" stands
# for every benzodiazepine of this table, so a positive for one the lab's class words cover is never called one its
# conclusion denies.
CLASS_MEMBERS: dict[str, tuple[str, ...]] = {
    "opiate": ("morphine", "codeine", "hydrocodone", "hydromorphone", "heroin"),
    "benzodiazepine": tuple(analyte.key for analyte in _BENZODIAZEPINES),
}
# The drugs whose metabolites have codes of their own in the analyte table.
_WITH_METABOLITES = frozenset(
    {"morphine", "codeine", "hydrocodone", "hydromorphone", "oxymorphone", "oxycodone", "tapentadol", "tramadol"}
    | {"meperidine", "propoxyphene", "sufentanil", "alprazolam", "clonazepam", "oxazepam", "temazepam", "lorazepam"}
    | {"chlordiazepoxide", "clobazam", "midazolam", "triazolam", "flurazepam", "flunitrazepam", "zolpidem"}
    | {"zopiclone"}
)
ANALYTES: tuple[Analyte, ...] = (
    *(parent for parent in _PARENTS if parent.key != "oxycodone"),  # the CDC's oxycodone row judges oxycodone
    *(_metabolite(parent) for parent in _PARENTS if parent.key in _WITH_METABOLITES),
)

# Drugs sold in no US product that no packaged medication set or drug-table row names, so no prescription can
# explain them. Loading checks that every other row has a medication to be explained by: a drug prescribed in the US
# that PainPlan cannot see must be named as not judged (left out of the table), never called unexpected.
UNMARKETED = frozenset(
    {"alphaprodine", "anileridine", "desomorphine", "ethylmorphine", "medazepam", "nicomorphine", "trimeperidine"}
    | {"zolazepam"}  # a veterinary anaesthetic (with tiletamine)
)
