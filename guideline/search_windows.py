"""How far back a date-bounded search must reach: the widest window any check or exclusion reading its resources
judges, each from the site's settings, never less than the search's own fixed window. The hooks' dated prefetch
templates (cds_hooks.services) and the plan page's searches (smart_app.plan_view) are both bounded so: fixed at a year
while a site's urine drug test check read 24 months, the search found no test 18 months old and the card said none
was done in 24 months."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from guideline.care_plans import plan_window_days
from guideline.checks.unexpected_uds_result import RESULT_MONTHS
from guideline.checks.urine_drug_test import report_months
from guideline.exclusions import CANCER_VISIT_MONTHS
from guideline.timeutil import day_span, months_before
from guideline.uds import GIVEN_WINDOW_DAYS

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig

# A fill or order dated before a medication window still counts when its supply reaches into it (OUD treatment): a
# month's supply more is asked for, as the fixed 395 days (12 months of urine drug test results and 30 days) do.
SUPPLY_REACH_DAYS = 30
MONTH_UNITS = {"months": 1, "month": 1, "years": 12, "year": 12}


@dataclass(frozen=True)
class Window:
    """A look-back as a prefetch token writes it: 90 days, 13 months, 1 year."""

    amount: int
    unit: str  # "days", "months", "year" or "years"

    @property
    def months(self) -> int | None:
        """The calendar months it spans, or None for a window counted in days."""
        factor = MONTH_UNITS.get(self.unit)
        return None if factor is None else self.amount * factor

    def shortest_days(self) -> int:
        """The fewest days it can span (12 months: 365; 1 month: 28)."""
        months = self.months
        return self.amount if months is None else 365 * (months // 12) + 28 * (months % 12)

    def longest_days(self) -> int:
        """The most days it can span (12 months: 366; 1 month: 31)."""
        months = self.months
        return self.amount if months is None else 366 * (months // 12) + 31 * (months % 12)

    def covers(self, other: Window) -> bool:
        """Whether it reaches back at least as far as `other`, whatever today is."""
        mine, theirs = self.months, other.months
        if mine is not None and theirs is not None:
            return mine >= theirs
        if mine is None and theirs is None:
            return self.amount >= other.amount
        return self.shortest_days() >= other.longest_days()

    @property
    def words(self) -> str:
        """ "90 days", "24 months", "1 year": the token's amount and unit, and the plan page's label."""
        return f"{self.amount} {self.unit}"

    @property
    def token(self) -> str:
        """The template expression of its first day ("today() - 90 days")."""
        return f"today() - {self.words}"

    def start(self, today: date) -> date:
        """Its first day, counted back from `today` as a template's token is filled in (guideline.searches.render)."""
        months = self.months
        return today - day_span(self.amount) if months is None else months_before(today, months)


def days(count: int) -> Window:
    return Window(int(count), "days")


def months(count: int) -> Window:
    return Window(int(count), "months")


def widest(floor: Window | None, readers: Iterable[Window]) -> Window:
    """The window reaching back as far as every reader's: `floor` itself when it does (so a site on the defaults is
    sent the templates it always was), else the shortest of the readers' that covers all, else enough days for all
    (13 months, 393 to 397 days, and 396 days: 397 days)."""
    candidates = [*([floor] if floor is not None else []), *readers]
    if not candidates:
        raise ValueError("a window needs a floor or a reader")
    if floor is not None and all(floor.covers(other) for other in candidates):
        return floor
    covering = [w for w in candidates if all(w.covers(other) for other in candidates)]
    if covering:
        return min(covering, key=Window.longest_days)
    return days(max(w.longest_days() for w in candidates))


# The payer claims search's own window (`prefetch.payer_claims`): a claim is a fill, so claims are asked for as far
# back as the dispensing records are (13 months and 30 days); it also holds the 12 months of hospice visits and of
# cancer visits, and the 90 days of hospice care, that claims stand for. Widened as its readers' settings reach further.
CLAIMS_WINDOW = days(395)


def reader_windows(config: GuidelineConfig) -> dict[str, tuple[Window, ...]]:
    """The windows the site's settings make each dated search's readers judge, by the hooks' prefetch key (the plan
    page maps its searches to them). The windows a search's fixed floor was chosen to hold (12 months of urine drug
    test results, the 90 days of opioid exposure) are not repeated here: they never change."""
    check = config.check
    hospice = config["exclusions"]["hospice_palliative"]
    uds, reassessment = check("urine-drug-test").options, check("reassessment-due").options
    oud_days = int(check("oud-treatment")["lookback_days"])
    plan_days = plan_window_days(config)  # the one window a pain treatment plan stays current in (card and page)
    pdmp_days = int(check("pdmp-review")["lookback_days"])
    possession = months(check("naloxone").options["possession_months"])
    medication_history = (possession, days(oud_days + SUPPLY_REACH_DAYS))
    windows: dict[str, tuple[Window, ...]] = {
        # Results and procedures both record a urine drug test done (the card and `unexpected-uds-result`).
        "udsLabs": (months(report_months(config)),),
        "labReports": (months(report_months(config)),),
        "pdmpObs": (days(pdmp_days),),
        "procedures": (
            months(report_months(config)),
            days(reassessment["lookback_days"]),
            days(plan_days),
            days(pdmp_days),
            days(oud_days),  # a treatment programme's billing code for a dose given
            days(hospice["procedure_days"]),
        ),
        # A hospice discharge, and a hospice visit counted as a hospice procedure is.
        "encounters": (months(hospice["encounter_months"]), days(hospice["procedure_days"])),
        "serviceRequests": (
            days(uds["pending_order_days"]),
            days(reassessment["pending_order_days"]),
            days(hospice["servicerequest_days"]),
        ),
        "planNotes": (days(plan_days),),
        # An order with no end known is current for `current_order_default_days` after it starts.
        "medsRecent": (*medication_history, days(config["current_order_default_days"])),
        "dispenses": medication_history,
        # A dose given explains a positive urine drug test in the days after it, for every result the cards read.
        "medAdministrations": (days(oud_days), days(months(RESULT_MONTHS).longest_days() + GIVEN_WINDOW_DAYS)),
    }
    # A payer claim stands for fills, procedures (hospice care among them) and the visits billing a diagnosis (the
    # 12 months of cancer visits counted): the claims search reaches back as far as any reader of those.
    windows["payerClaims"] = (
        *windows["dispenses"],
        *windows["procedures"],
        *windows["encounters"],
        months(CANCER_VISIT_MONTHS),
    )
    return windows
