"""The names of the derived code sets (guideline 2.2, 2.3 and the sets the checks read), and the name shown for a
medication nothing names: the words guideline.terminology and guideline.recognition share. Here, so that recognition
can name the sets without importing the terminology that asks it where a medication belongs."""

from __future__ import annotations

OPIOID = "OPIOID"
ER_LA = "ER_LA"
# Transmucosal immediate-release fentanyl (buccal tablets and films, lozenges, sublingual tablets, sublingual and
# nasal sprays): contraindicated in patients who are not opioid-tolerant (FDA boxed warning, TIRF REMS).
TIRF = "TIRF"
BENZO = "BENZO"
CNS_DEPRESSANT = "CNS_DEPRESSANT"
NALOXONE_RESCUE = "NALOXONE_RESCUE"
MOUD_BUP = "MOUD_BUP"
# Opioids whose form marks them as treatment for opioid use disorder, never pain therapy: the A.4 buprenorphine
# products and the methadone forms only opioid treatment programs dispense (dispersible 40 mg tablets, 10 mg/mL
# concentrate). Their supply is not pain exposure (long-term therapy, recent start) for Recommendations 6 and 7.
OUD_TREATMENT_OPIOID = "OUD_TREATMENT_OPIOID"
MOUD = "MOUD"
NALTREXONE = "NALTREXONE"
BUPRENORPHINE = "BUPRENORPHINE"
OUD = "OUD"
OPIOID_POISONING = "OPIOID_POISONING"
SUD_HISTORY = "SUD_HISTORY"
SLEEP_BREATHING = "SLEEP_BREATHING"
SICKLE_CELL = "SICKLE_CELL"
MALIGNANT_CANCER = "MALIGNANT_CANCER"
# The cancers G3 reads at the point of care: MALIGNANT_CANCER less the project's point-of-care corrections (no
# keratinocyte skin cancer); the population review reads MALIGNANT_CANCER, the IG's set, as its spec says.
POINT_OF_CARE_CANCER = "POINT_OF_CARE_CANCER"
TERMINAL = "TERMINAL"
UDS_TEST = "UDS_TEST"
HOSPICE_DISPOSITION = "HOSPICE_DISPOSITION"
HOSPICE_PROCEDURE = "HOSPICE_PROCEDURE"
HOSPICE_FINDING = "HOSPICE_FINDING"
OPIOID_TREATMENT_ASSESSMENT = "OPIOID_TREATMENT_ASSESSMENT"
PDMP_REVIEW = "PDMP_REVIEW"
PAIN_MANAGEMENT_PROCEDURE = "PAIN_MANAGEMENT_PROCEDURE"
PAIN_TREATMENT_PLAN = "PAIN_TREATMENT_PLAN"
OPIATE_EXPECTED = "OPIATE_EXPECTED"

# What a medication nothing names is called.
UNNAMED_MEDICATION = "unnamed medication"
