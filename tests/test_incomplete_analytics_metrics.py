"""/metrics counts the cards issued on incomplete records, per check."""

from __future__ import annotations

import responses
from cds_support import make_app
from test_incomplete_analytics import lab_search_fails, sign_without_labs


def counted(app, check: str) -> float:
    text_ = app.test_client().get("/metrics").get_data(as_text=True)
    line = f'painplan_cards_records_incomplete_total{{check="{check}"}} '
    found = [float(row[len(line) :]) for row in text_.splitlines() if row.startswith(line)]
    return found[0] if found else 0.0


@responses.activate
def test_metrics_count_the_cards_issued_on_incomplete_records_per_check(tmp_path):
    lab_search_fails()
    app = make_app(tmp_path)
    uds, naive = counted(app, "urine-drug-test"), counted(app, "er-la-opioid-naive")
    cards = sign_without_labs(app)
    assert {"urine-drug-test", "er-la-opioid-naive"} <= set(cards)
    assert counted(app, "urine-drug-test") == uds + 1
    assert counted(app, "er-la-opioid-naive") == naive  # its data was all read
