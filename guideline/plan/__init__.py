"""The pain treatment plan view, assembled from the engine's Facts: one module per section, each isolated."""

from guideline.plan.alerts import Alerts, build_alerts
from guideline.plan.assembly import SECTION_QUERIES, TITLES, build_plan
from guideline.plan.banner import Banner, build_banner
from guideline.plan.medications import Medications, OpioidRow, build_medications
from guideline.plan.mme_history import MmeHistory, build_mme_history, daily_mme_series
from guideline.plan.model import PlanView, Point, QueryStatus, Section
from guideline.plan.nonopioid import MEDICINES, SERVICES, NonOpioid, Therapy, TherapyKind, build_nonopioid
from guideline.plan.note import note_text
from guideline.plan.oud import OUD_OPTIONS, OudBlock, build_oud
from guideline.plan.resources import LINK_LABELS, Resources, build_resources
from guideline.plan.risks import Risk, Risks, build_risks
from guideline.plan.scores import Scores, build_scores
from guideline.plan.tapering import Taper, TaperRequest, build_taper
from guideline.plan.tasks import Task, build_tasks
from guideline.plan.uds_history import UdsHistory, UdsRow, build_uds
from guideline.plan.what_if import OrderFocus, compact_drafts, drafts_from_app_context, named_orders, order_focus

__all__ = [
    "LINK_LABELS",
    "MEDICINES",
    "OUD_OPTIONS",
    "SECTION_QUERIES",
    "SERVICES",
    "TITLES",
    "Alerts",
    "Banner",
    "Medications",
    "MmeHistory",
    "NonOpioid",
    "OpioidRow",
    "OrderFocus",
    "OudBlock",
    "PlanView",
    "Point",
    "QueryStatus",
    "Resources",
    "Risk",
    "Risks",
    "Scores",
    "Section",
    "Task",
    "Taper",
    "TaperRequest",
    "Therapy",
    "TherapyKind",
    "UdsHistory",
    "UdsRow",
    "build_alerts",
    "build_banner",
    "build_medications",
    "build_mme_history",
    "build_nonopioid",
    "build_oud",
    "build_plan",
    "build_resources",
    "build_risks",
    "build_scores",
    "build_taper",
    "build_tasks",
    "build_uds",
    "daily_mme_series",
    "named_orders",
    "compact_drafts",
    "drafts_from_app_context",
    "note_text",
    "order_focus",
]
