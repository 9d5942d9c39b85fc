"""The names recognition reads: ingredients with their class, salt words, and the brand table in guideline/data."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from guideline import mme_factors as mf

IngredientClass = Literal["opioid", "benzodiazepine", "sedative", "naloxone", "naltrexone", "other"]


def _words(text: str) -> tuple[str, ...]:
    """A whitespace-separated word list, so long lists stay readable."""
    return tuple(text.split())


BRAND_TABLE = Path(__file__).resolve().parent.parent / "data" / "brand-names.csv"
DRUG_TABLE = Path(__file__).resolve().parent.parent / "data" / "opioid-drug-data.csv"
# A word of a lower-cased drug name, as recognition reads names (guideline.recognition.names) and the drug table.
NAME_WORD = re.compile(r"[a-z][a-z0-9]*")

# Opioids named in the factor tables, plus the anaesthesia-only fentanyl analogues (opioids without a factor).
_OPIOIDS: dict[str, str | None] = {name: rxcui for rxcui, name in mf.INGREDIENT_NAMES.items()}
_OPIOIDS.update({"sufentanil": None, "alfentanil": None, "remifentanil": None, "benzhydrocodone": None})
# Oliceridine (Olinvyk, an intravenous opioid approved in 2020) is newer than the packaged RxNorm data: its code is in
# no set, so only its name tells it is an opioid; unknown, that code was read as not relevant.
_OPIOIDS["oliceridine"] = None
# Opioids of the CDC opioid set sold outside the US (no MME factor): a name is still an opioid, never unidentified.
_OPIOIDS.update(dict.fromkeys(("dextromoramide", "dipipanone", "diamorphine", "heroin", "meptazinol", "pholcodine")))

_BENZODIAZEPINES = _words(
    """
    alprazolam chlordiazepoxide clobazam clonazepam clorazepate diazepam estazolam flurazepam lorazepam midazolam
    oxazepam quazepam temazepam triazolam remimazolam bromazepam flunitrazepam halazepam lormetazepam nitrazepam
    prazepam
    """
)

# Sedatives and hypnotics the checks may count with an opioid (the CNS depressant set decides which it counts).
_SEDATIVES = _words(
    """
    zolpidem zaleplon eszopiclone carisoprodol meprobamate butalbital phenobarbital pentobarbital secobarbital
    butabarbital amobarbital oxybate dexmedetomidine meclizine trimethobenzamide butobarbital hexobarbital
    mephobarbital methohexital primidone thiopental
    """
)

# Drugs often ordered next to opioids that no opioid check counts: naming them is positive evidence that an order
# is not relevant, where an unknown name would leave it unidentified. Among them the medicines for opioid-induced
# constipation (naloxegol, methylnaltrexone and naldemedine block opioids in the gut only: no rescue, no treatment
# for opioid use disorder), and the anti-diarrhoeals diphenoxylate and difenoxin, which RxNorm's opioid sets leave
# out as their codes show (always sold with atropine).
_OTHER = _words(
    """
    acetaminophen paracetamol apap ibuprofen naproxen aspirin celecoxib meloxicam diclofenac ketorolac etodolac
    nabumetone indomethacin gabapentin pregabalin duloxetine venlafaxine amitriptyline nortriptyline
    cyclobenzaprine tizanidine baclofen methocarbamol metaxalone lidocaine capsaicin topiramate bupropion
    ondansetron promethazine docusate senna sennosides polyethylene caffeine guaifenesin prednisone
    methylprednisolone amoxicillin cephalexin lisinopril metformin atorvastatin omeprazole sertraline fluoxetine
    trazodone hydroxyzine diphenhydramine amphetamine dextroamphetamine lisdexamfetamine methamphetamine
    methylphenidate dexmethylphenidate phentermine phendimetrazine benzphetamine diethylpropion chlorpheniramine
    brompheniramine pseudoephedrine phenylephrine lofexidine clonidine suvorexant lemborexant daridorexant
    levothyroxine amlodipine metoprolol losartan hydrochlorothiazide simvastatin rosuvastatin pravastatin montelukast
    albuterol fluticasone insulin glipizide furosemide pantoprazole escitalopram citalopram tamsulosin warfarin
    apixaban rivaroxaban clopidogrel carvedilol spironolactone allopurinol azithromycin doxycycline ciprofloxacin
    famotidine loratadine cetirizine ergocalciferol cholecalciferol estradiol levetiracetam lamotrigine quetiapine
    mirtazapine buspirone aripiprazole olanzapine risperidone valacyclovir sumatriptan hydroxychloroquine methotrexate
    paroxetine desvenlafaxine oxcarbazepine carbamazepine valproate divalproex lithium haloperidol ziprasidone
    guanfacine atomoxetine clavulanate nitrofurantoin sulfamethoxazole trimethoprim fluconazole acyclovir
    metoclopramide prochlorperazine loperamide bisacodyl lactulose dexamethasone triamcinolone empagliflozin
    dapagliflozin semaglutide liraglutide dulaglutide sitagliptin pioglitazone glimepiride valsartan olmesartan
    irbesartan benazepril enalapril ramipril diltiazem verapamil nifedipine hydralazine atenolol propranolol labetalol
    isosorbide nitroglycerin digoxin amiodarone ezetimibe fenofibrate finasteride oxybutynin tolterodine sildenafil
    tadalafil alendronate cyanocobalamin thiamine levocetirizine fexofenadine budesonide tiotropium ipratropium
    salmeterol formoterol kaolin pectin belladonna homatropine
    naloxegol methylnaltrexone naldemedine lubiprostone linaclotide diphenoxylate difenoxin atropine
    dextromethorphan benzonatate clidinium
    """
)

# The other ingredients of the ordinary combinations that hold an ingredient sold with opioids (acetaminophen,
# aspirin, ibuprofen, naproxen, caffeine, the decongestants and antihistamines): unread, such a name listed one
# strength more than the ingredients read, and was named unidentified beside every opioid order though it is
# plainly not relevant (aspirin with dipyridamole, acetaminophen with pamabrom). First the non-opioid ingredients
# of the packaged drug table's opioid products (so every partner of an opioid is read), then the common OTC and
# prescription partners of those partners. None is an opioid, a benzodiazepine or in the CNS depressant set:
# orphenadrine and chlorzoxazone are muscle relaxants the set leaves out, as it does cyclobenzaprine and
# methocarbamol above (carisoprodol, which PainPlan adds to the set, is a sedative); doxylamine and the other
# antihistamines are read as diphenhydramine is. Calcium, magnesium and aluminum are the antacids of buffered aspirin.
# Last, the other ingredients the packaged medication sets combine with an opioid or a sedative (dipipanone with
# cyclizine; phenobarbital with hyoscyamine, atropine and scopolamine, Donnatal; butabarbital with hyoscyamine and
# phenazopyridine; pentobarbital with phenytoin): unknown, each was an unread word beside its partner.
_COMBINATION_PARTNERS = _words(
    """
    bromodiphenhydramine chlorcyclizine dexbrompheniramine dexchlorpheniramine guaiacolsulfonate phenylpropanolamine
    pyrilamine ropivacaine triprolidine
    dipyridamole pamabrom doxylamine desloratadine carbinoxamine acrivastine phenyltoloxamine methscopolamine
    orphenadrine chlorzoxazone salicylamide carbetapentane bupivacaine ergotamine esomeprazole misoprostol
    calcium magnesium aluminum bicarbonate citric
    cyclizine hyoscyamine scopolamine phenazopyridine phenytoin
    """
)

# Supplements and vitamins patients report taking beside opioids, as Epic's and Oracle's med lists name them
# ("MELATONIN 3 MG PO TABS", "FERROUS SULFATE 325 (65 FE) MG PO TABS"): no opioid check counts them. Unknown, each
# was unidentified and named on every opioid order ("Could not identify current medication …: the MME total may be
# too low"), a card clinicians learn to ignore.
_SUPPLEMENTS = _words(
    """
    multivitamin multivitamins melatonin ferrous iron probiotic probiotics glucosamine chondroitin turmeric curcumin
    zinc biotin coq10 ubiquinone niacin riboflavin pyridoxine phytonadione
    """
)

# The vitamins by their letters, as med lists write them ("VITAMIN D3 50 MCG", "VITAMIN B-12", "VITAMIN C").
_VITAMIN_LETTERS = _words("a b b1 b2 b3 b5 b6 b7 b9 b12 c d d2 d3 e k k1 k2")
# A letter with its number is a vitamin's word alone ("B12 1000 MCG", "FOLIC ACID-B6-B12 2.5-25-1 MG"): no drug is
# called so. A lone letter is not: the "C" of a cut "…/CAFFEINE/C" may begin codeine. The names join a letter to its
# number when written apart ("B-12", "vitamin B 12": `guideline.recognition.names`).
VITAMIN_NUMBERED = frozenset(letter for letter in _VITAMIN_LETTERS if len(letter) > 1)

# Non-opioid ingredients whose name is several words, by their words (a longer one is read before a shorter one it
# begins with): the supplements and vitamins above written so. Its "cod" is never codeine (names.py).
PHRASES: Mapping[tuple[str, ...], str] = {
    ("cod", "liver", "oil"): "cod liver oil",
    ("fish", "oil"): "fish oil",
    ("omega", "fatty", "acids"): "omega-3 fatty acids",  # "OMEGA-3 FATTY ACIDS": the "3" is no word
    ("omega",): "omega-3 fatty acids",  # "OMEGA-3 1000 MG"
    ("prenatal", "vitamins"): "prenatal vitamins",
    ("prenatal", "vitamin"): "prenatal vitamins",
    ("ascorbic", "acid"): "ascorbic acid",
    ("folic", "acid"): "folic acid",
    ("potassium", "chloride"): "potassium chloride",  # alone, "potassium" is a salt's word ("losartan potassium")
    ("coenzyme", "q10"): "coenzyme q10",
    ("saw", "palmetto"): "saw palmetto",  # an herb patients report for the prostate
    ("multiple", "vitamins", "minerals"): "multivitamin with minerals",
    ("multiple", "vitamins"): "multivitamin",
    **{("vitamin", letter): f"vitamin {letter}" for letter in _VITAMIN_LETTERS},
    **{("vit", letter): f"vitamin {letter}" for letter in _VITAMIN_LETTERS},  # drug files: "VIT B-12 TAB 1000MCG"
    # The B vitamins together ("B-COMPLEX", "B COMPLEX-C", "Super B Complex"): "B" alone read nothing, and the name
    # was unidentified beside every opioid order.
    ("vitamin", "b", "complex"): "vitamin b complex",
    ("b", "complex"): "vitamin b complex",
}

# The ingredients an opioid cough and cold product holds beside its opioid: an antihistamine, a decongestant, an
# expectorant, or homatropine (hydrocodone's antitussives, Hycodan, Hydromet, Tussigon). The population review leaves
# such products out of the pain-opioid measures; recognition reads "GUAIFENESIN AC" (with codeine) by them.
COUGH_COLD_PARTNERS = frozenset(
    {
        # antihistamines
        "brompheniramine", "bromodiphenhydramine", "carbinoxamine", "chlorcyclizine", "chlorpheniramine",
        "dexbrompheniramine", "dexchlorpheniramine", "diphenhydramine", "promethazine", "pyrilamine", "triprolidine",
        # decongestants
        "phenylephrine", "phenylpropanolamine", "pseudoephedrine",
        # expectorants
        "guaifenesin", "guaiacolsulfonate",
        # the anticholinergic of hydrocodone's antitussives
        "homatropine",
    }
)  # fmt: skip

# Abbreviations EHR order names and payers' drug files (names cut to fit a field) use for an ingredient.
ALIASES: Mapping[str, str] = {
    "apap": "acetaminophen",
    "paracetamol": "acetaminophen",
    "acetamin": "acetaminophen",
    "acetaminop": "acetaminophen",
    "acetaminoph": "acetaminophen",
    "asa": "aspirin",
    "caff": "caffeine",
    "mso4": "morphine",
    # Medi-Span's and First Databank's abbreviated names ("HYDROCO/APAP TAB 5-325MG", "OXYCOD/APAP", "HYDROCO/IBU",
    # "BUPREN/NALOX", "CHLORDIAZEP/AMITRIP"), as PBM medication histories and claims carry them. Read as
    # acetaminophen alone, "HYDROCO/APAP" was not relevant: no opioid, no card, no word.
    **dict.fromkeys(("hydroco", "hydrocod", "hydrocodon"), "hydrocodone"),
    **dict.fromkeys(("oxycod", "oxycodon"), "oxycodone"),
    **dict.fromkeys(("hydromorph", "hydromorphon"), "hydromorphone"),
    **dict.fromkeys(("oxymorph", "oxymorphon"), "oxymorphone"),
    **dict.fromkeys(("bupren", "buprenor", "buprenorph", "buprenorphin"), "buprenorphine"),  # "BUPRENORPHIN/NALOX"
    **dict.fromkeys(("dihydrocod", "dihydrocodein"), "dihydrocodeine"),
    "tramad": "tramadol",
    # Opium preparations by their own names (camphorated opium tincture, opium tincture), strengths read as opium's.
    **dict.fromkeys(("paregoric", "laudanum"), "opium"),
    "tapentad": "tapentadol",
    "meperid": "meperidine",
    "pentazoc": "pentazocine",
    "butorph": "butorphanol",
    "levorph": "levorphanol",
    "nalox": "naloxone",
    "ibu": "ibuprofen",
    "dm": "dextromethorphan",  # "guaiFENesin-DM 100-10 mg/5 mL"
    # Cough and cold ingredients as drug files cut them ("BROMPHEN/PSE/DM", "CHLORPHEN/PE"): read, an ordinary
    # cold medicine is not relevant, where its unread part would make it unidentified beside its read partner.
    "bromphen": "brompheniramine",
    "chlorphen": "chlorpheniramine",
    "pse": "pseudoephedrine",
    "pe": "phenylephrine",
    "guaifen": "guaifenesin",  # "CODEINE PHOS/GUAIFEN 10-100MG/5ML": unread, the codeine's strength could not be told
    "prometh": "promethazine",  # "PROMETH/CODEINE SYRUP 6.25-10 MG/5ML": unread, its codeine dose was unknown
    **dict.fromkeys(("chlordiazep", "chlordiazepox"), "chlordiazepoxide"),
    "clidin": "clidinium",  # "CHLORDIAZEP/CLIDIN" (Librax): unread, the benzodiazepine was only partly read
    "amitrip": "amitriptyline",
    "butalb": "butalbital",
    **dict.fromkeys(("carisop", "carisoprod"), "carisoprodol"),
    **{numbered: f"vitamin {numbered}" for numbered in VITAMIN_NUMBERED},  # "B12", "B-6" (joined), "D3"
}

# Abbreviations that name a combination only as a pair, joined by "/" or "-" in this order ("BUP/NAL 8-2MG SL TAB",
# "BUP-NX"), read as its ingredients. Alone each is no ingredient: "BUP" may be bupropion, "NAL" naltrexone or
# nalbuphine; naltrexone with bupropion (Contrave) is written naltrexone first.
PAIRED_ALIASES: Mapping[tuple[str, str], str] = {
    ("bup", "nal"): "buprenorphine/naloxone",
    ("bup", "nx"): "buprenorphine/naloxone",
}

# The words of a medicine's name that are no ingredient: strength units and bases, dose forms and routes, release,
# salts, and the packaging and marketing words joined to others by "/" or "-" ("mg/ml", "extended-release",
# "auto-injector", "abuse-deterrent", "sugar-free"), Epic's form abbreviations, and the diluents and local
# anaesthetic partners of an infusion's or an epidural's name ("fentanyl-bupivacaine-NaCl", "bupivacaine-epinephrine":
# epinephrine is in no set the checks read). A word joined so that is neither these nor an ingredient or a brand is
# read as an ingredient PainPlan did not recognise (guideline.recognition.names).
_NOT_INGREDIENTS = _words(
    """
    mg mcg ml mls liter unit units meq hr hrs hour hours day days actuat actuation actuations spray sprays dose doses
    puff puffs drop drops patch patches strength strengths gram grams
    tab tabs tablet tablets cap caps capsule capsules sol soln solution liquid liqd syrup syrp elixir elix susp
    suspension conc concentrate inj injection injectable injector ampule vial syringe syrg cartridge pen kit film
    lozenge lozg troche powder cream gel ointment lotion suppository supp supprette supprettes implant pump wafer
    chew chewable
    disintegrating dispersible effervescent granules packet tincture tinc deodorized camphorated
    oral buccal sublingual nasal rectal topical transdermal mucosal intravenous intramuscular subcutaneous
    epidural intrathecal ophthalmic otic
    extended release released immediate delayed controlled sustained modified long short acting abuse deterrent
    er xr xl sr cr la ir dr ec odt cd
    hcl hydrochloride bitartrate bitart bit sulfate sulf phosphate phos citrate tartrate sodium potassium maleate
    mesylate besylate succinate acetate bromide hydrobromide hbr chloride napsylate polistirex terephthalate pamoate
    fumarate hydroiodide anhydrous base alkaloid alkaloids carbonate oxide gluconate
    auto pre filled prefilled free sugar alcohol dye extra maximum max regular plus junior children childrens
    infant infants adult adults pediatric pack daily night nighttime daytime time and with per
    sosy soaj socr soct tbcr tber tb12 tb24 t12a t24a cp12 cp24 cpcr cper cpep pt72 pt24 ptwk subq suer susr
    polst
    nacl saline dextrose d5w water lactated ringer ringers epinephrine infusion drip bolus premix bag ivpb
    piggyback pca pcea compounded compound combination combo starter titration
    """
)


@lru_cache(maxsize=4096)
def known_word(word: str) -> bool:
    """Whether a word of a lower-cased name is one PainPlan reads: an ingredient or its abbreviation, a brand's word,
    a word of a several-word ingredient, or a word that is no ingredient (a unit, a form, a salt, a release)."""
    return (
        word in ingredients()
        or word in ALIASES
        or word in _NOT_INGREDIENTS
        or word in _brand_words()
        or word in _PHRASE_WORDS
    )


# The words of the several-word ingredients ("cod-liver oil" joins two of them). A vitamin's letter is known only in
# its phrase: alone, the "C" of a name cut short ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C") may begin codeine.
_PHRASE_WORDS = frozenset(word for phrase in PHRASES for word in phrase if len(word) >= 3)


@cache
def _brand_words() -> frozenset[str]:
    return frozenset(word for name in brands() for word in name.split())


@cache
def supplements() -> frozenset[str]:
    """The supplements and vitamins recognition reads ("melatonin", "fish oil", "vitamin d3"): read to keep a med
    list's whole supplement names quiet, never as evidence of what an unread word beside one is."""
    return frozenset((*_SUPPLEMENTS, *PHRASES.values()))


@cache
def opioid_partners() -> frozenset[str]:
    """The other ingredients sold with an opioid in one product (acetaminophen, ibuprofen, butalbital, guaifenesin,
    naloxone, ...), read from the packaged RxNorm drug table's names."""
    known = ingredients()
    with DRUG_TABLE.open(encoding="utf-8", newline="") as handle:
        words = {
            ALIASES.get(word, word)
            for row in csv.DictReader(handle)
            for word in NAME_WORD.findall(row["drug_name"].lower())
        }
    return frozenset(word for word in words if word in known and known[word].kind != "opioid")


@cache
def sold_with() -> Mapping[str, frozenset[str]]:
    """Each opioid with the other ingredients sold with it in one product (codeine: acetaminophen, butalbital,
    guaifenesin, promethazine, ...), read from the packaged RxNorm drug table's names."""
    known = ingredients()
    found: dict[str, set[str]] = {}
    with DRUG_TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            words = {ALIASES.get(word, word) for word in NAME_WORD.findall(row["drug_name"].lower())}
            named = [known[word] for word in words if word in known]
            partners = {i.name for i in named if i.kind != "opioid"}
            for opioid in (i.name for i in named if i.kind == "opioid"):
                found.setdefault(opioid, set()).update(partners)
    return {opioid: frozenset(partners) for opioid, partners in found.items()}


@cache
def sedatives_sold_with() -> Mapping[str, frozenset[str]]:
    """Each opioid with the sedatives and benzodiazepines sold with it in one product (codeine: butalbital in
    Fioricet and Fiorinal with codeine, carisoprodol in Soma compound with codeine)."""
    known = ingredients()
    found = {
        opioid: frozenset(p for p in partners if known[p].kind in ("sedative", "benzodiazepine"))
        for opioid, partners in sold_with().items()
    }
    return {opioid: sedatives for opioid, sedatives in found.items() if sedatives}


@dataclass(frozen=True, slots=True)
class Ingredient:
    name: str
    kind: IngredientClass
    rxcui: str | None = None  # the RxNorm ingredient code, for opioids the factor tables know


@dataclass(frozen=True, slots=True)
class Brand:
    """One row of the brand table: a US brand name and the generic product it names."""

    name: str
    ingredients: tuple[str, ...]
    extended_release: bool
    form: str | None


@cache
def ingredients() -> Mapping[str, Ingredient]:
    """Every ingredient name recognition knows, by its lowercase name."""
    found: dict[str, Ingredient] = {}
    for name in (*_OTHER, *_COMBINATION_PARTNERS, *_SUPPLEMENTS, *PHRASES.values()):
        found[name] = Ingredient(name, "other")
    for name in _SEDATIVES:
        found[name] = Ingredient(name, "sedative")
    for name in _BENZODIAZEPINES:
        found[name] = Ingredient(name, "benzodiazepine")
    for name, rxcui in _OPIOIDS.items():
        found[name] = Ingredient(name, "opioid", rxcui)
    found["naloxone"] = Ingredient("naloxone", "naloxone")
    # Nalmefene reverses an opioid overdose as naloxone does (Opvee nasal spray, Zurnai auto-injector; newer than the
    # CDC naloxone set): a patient who has it has a rescue medicine.
    found["nalmefene"] = Ingredient("nalmefene", "naloxone")
    found["naltrexone"] = Ingredient("naltrexone", "naltrexone", "7243")
    return found


@cache
def brands() -> Mapping[str, Brand]:
    """The brand table, by lowercase brand name (one or two words)."""
    known = ingredients()
    table: dict[str, Brand] = {}
    with BRAND_TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names = tuple(part.strip().split()[-1] for part in row["ingredients"].split(";"))
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ValueError(f"{BRAND_TABLE.name}: {row['brand']} names unknown ingredients {unknown}")
            # A hyphened brand by its two words, as names are read ("NEPHRO-VITE": "nephro", "vite").
            table[row["brand"].strip().lower().replace("-", " ")] = Brand(
                name=row["brand"].strip(),
                ingredients=names,
                extended_release=row["release"].strip() == "extended",
                form=row["form"].strip() or None,
            )
    return table
