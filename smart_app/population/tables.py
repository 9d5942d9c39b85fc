"""The output tables: one Arrow schema for `patients`, the measures aggregation (SQL both engines run), writers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from guideline.population import MEASURES, Quality
from guideline.population.evaluate import PATIENT_COLUMNS
from guideline.population.links import resolve_links
from smart_app.population.outputs import replaced, write_whole
from smart_app.population.worker import (
    BUNDLE,
    EXPECTED_TYPES,
    ID_FROM_FULL_URL,
    MEDICATION_TYPES,
    OPERATION_OUTCOME,
    PATIENT_KEY,
    SHARED_TYPES,
    WITHOUT_PATIENT,
)

_ARROW = {"str": pa.string(), "date": pa.date32(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
PATIENT_SCHEMA = pa.schema([(name, _ARROW[kind]) for name, kind in PATIENT_COLUMNS])
MEASURE_SCHEMA = pa.schema(
    [
        ("level", pa.string()),
        ("unit", pa.string()),
        ("measure", pa.string()),
        ("denominator", pa.int64()),
        ("numerator", pa.int64()),
        ("rate", pa.float64()),
        ("better", pa.string()),
    ]
)
UNATTRIBUTED = "unattributed"
LEVELS = (("overall", "'all'"), ("practice", f"coalesce(practice_id, '{UNATTRIBUTED}')"),
          ("pcp", f"coalesce(pcp_id, '{UNATTRIBUTED}')"))  # fmt: skip


def rows_to_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=PATIENT_SCHEMA)


def sql_list(values: Iterable[Any]) -> str:
    """Quoted SQL string literals for an IN list (both engines' dialects)."""
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in sorted(values))


# The group of WITHOUT_PATIENT of each resource of one patient named by file and line when no Patient reference names
# its patient.
_GROUP_OF = {kind: group for group, (kinds, _) in WITHOUT_PATIENT.items() for kind in kinds}


def count_ingested(
    quality: Quality, run_sql: Callable[[str], list[Sequence[Any]]], file_name: Callable[[str], str] = str
) -> None:
    """What the export held, from the `res` table both engines build: resources by type, the types the review does
    not read, patient resources that name no patient, and members sent
    with no medicines at all. `run_sql` runs a query in the engine's dialect; `file_name` names an engine's file."""
    for kind, count in run_sql("SELECT coalesce(kind, '(none)'), count(*) FROM res GROUP BY 1"):
        quality.resources_by_type[kind] += count
        # A Bundle line (a payer's file of searchset Bundles) is read as its entries, each counted by its own type.
        # An OperationOutcome is the server's word on its answer, graded after the engines (export.server_outcomes).
        if kind not in EXPECTED_TYPES and kind not in (BUNDLE, OPERATION_OUTCOME):
            quality.unexpected_resource_types[kind] += count
    for file, count in run_sql(f"SELECT file, count(*) FROM res WHERE kind = '{OPERATION_OUTCOME}' GROUP BY 1"):
        quality.server_outcomes_by_file[file_name(file)] += count
    # Members sent with no fill, order or claim of any kind: the measures are empty for want of data, not of patients.
    if not any(quality.resources_by_type[kind] for kind in MEDICATION_TYPES):
        quality.patients_without_medication_data += quality.resources_by_type["Patient"]
    patient_kinds = sql_list(EXPECTED_TYPES - SHARED_TYPES)
    # A resource of one patient no Patient reference names is put with no patient: by file, in its group (a fill, a
    # record a measure reads, another), named by line later; a fill or such a record is a line not read.
    unkeyed = run_sql(
        f"SELECT file, kind, count(*) FROM res WHERE pkey IS NULL AND kind IN ({patient_kinds}) GROUP BY 1, 2"
    )
    for file, kind, count in unkeyed:
        quality.resources_without_patient += count
        if kind in _GROUP_OF:  # every patient kind but Patient itself (one with no id)
            getattr(quality, f"{_GROUP_OF[kind]}_by_file")[file_name(file)] += count


def count_ids_from_full_url(
    quality: Quality, run_sql: Callable[[str], list[Sequence[Any]]], json_string: str, file_name: Callable[[str], str]
) -> None:
    """The Bundle entries given an id from their `urn:` fullUrl (worker.ID_FROM_FULL_URL in their keys), by file and
    type, from the `lines` both engines build: said in data-quality.json, as the id is PainPlan's, not the source's."""
    query = (
        f"SELECT file, {json_string}(keys, '$[0]'), count(*) FROM lines "
        # LIKE first: a scan of text, so the JSON path is read only on the few lines that may be these.
        f"WHERE keys LIKE '%\"{ID_FROM_FULL_URL}\"]' AND {json_string}(keys, '$[6]') = '{ID_FROM_FULL_URL}' "
        "GROUP BY 1, 2"
    )
    for file, kind, count in run_sql(query):
        quality.ids_from_full_url[f"{file_name(file)}: {kind}"] += count


# The columns of `res`, as resources_sql writes them and every rewrite of it keeps them.
RES_COLUMNS = ("line", "kind", "id", "pkey", "medid", "replaced", "links_unread", "file")


def resources_sql(json_string: str, lines: str = "lines") -> str:
    """Each readable line's type, id, patient key, Medication id and (a linked Patient's) replacements and the
    replacement links it could not read, with its file (kept for those and resources of one patient with no patient
    key alone), from the `keys` column `line_keys` wrote and the `file` column of `lines`.
    `json_string` is the dialect's "string at a JSON path" function (DuckDB `json_extract_string`, Spark
    `get_json_object`); it only ever reads `line_keys`' plain arrays, never the export's own text."""
    return rf"""
        SELECT line, kind, id, pkey, medid, replaced, links_unread,
               CASE WHEN links_unread IS NOT NULL
                    OR (pkey IS NULL AND kind IN ({sql_list(_GROUP_OF)}))
                    OR kind = '{OPERATION_OUTCOME}' THEN file END AS file
        FROM (
        SELECT line, kind, id, file,
               nullif(regexp_extract(CASE WHEN kind = 'Patient' THEN concat('Patient/', id) ELSE pref END,
                                     '{PATIENT_KEY}', 1), '') AS pkey,
               nullif(regexp_extract(medref, 'Medication/([^/?#]+)', 1), '') AS medid,
               replaced, links_unread
        FROM (
            SELECT line, file,
                   nullif({json_string}(keys, '$[0]'), '') AS kind,
                   nullif({json_string}(keys, '$[1]'), '') AS id,
                   nullif({json_string}(keys, '$[2]'), '') AS pref,
                   nullif({json_string}(keys, '$[3]'), '') AS medref,
                   nullif({json_string}(keys, '$[4]'), '') AS replaced,
                   nullif({json_string}(keys, '$[5]'), '') AS links_unread
            FROM {lines} WHERE keys IS NOT NULL
        )
        )
        """


def merge_map(
    quality: Quality, run_sql: Callable[[str], list[Sequence[Any]]], file_name: Callable[[str], str] = str
) -> list[tuple[str, str]]:
    """The run's one map of replaced Patient records to their surviving record (guideline.population.links), as
    sorted (old, new) pairs, from the linked Patients alone: the few lines stating a replacement, and whether the
    ids they name are in `res`. Each replaced record, merged or not and why, goes into data-quality.json's
    `linked_patients`, and those read apart into `linked_patients_not_merged`; each link no engine can file, by
    its file (`file_name` gives the input's name for the engine's path) and Patient, into `patient_links_not_read`.
    """
    unread = run_sql("SELECT file, id, links_unread FROM res WHERE kind = 'Patient' AND links_unread IS NOT NULL")
    for file, ident, whys in unread:
        patient = f"Patient {ident}" if ident else "a Patient with no readable id"
        for why in json.loads(whys):
            quality.patient_links_not_read[f"{file_name(file)}: {patient}: {why}"] += 1
    links = [
        (old, new)
        for (replaced,) in run_sql("SELECT replaced FROM res WHERE kind = 'Patient' AND replaced IS NOT NULL")
        for old, new in json.loads(replaced)
    ]
    named = sorted({ident for pair in links for ident in pair})
    present: set[str] = set()
    for start in range(0, len(named), 1000):  # an IN list of bounded length, however many records are linked
        chunk = sql_list(named[start : start + 1000])
        present.update(
            row[0] for row in run_sql(f"SELECT DISTINCT id FROM res WHERE kind = 'Patient' AND id IN ({chunk})")
        )
    merges = resolve_links(links, present)
    quality.linked_patients.update(merges.named)
    quality.linked_patients_not_merged += merges.not_merged
    return sorted(merges.merged.items())


def _relinks(row: str, merged: str) -> str:
    """Which rows of `res` go under the surviving id (the one rule both engines' SQL states): a replaced record's
    resources, not its Patient resource, which keeps its own id so the surviving record alone gives age and PCP."""
    return f"{row}.pkey = {merged}.old AND {row}.kind <> 'Patient'"


def relinked_sql(table: str, merged: str) -> str:
    """`table` (a `res`) with each replaced record's resources under its surviving id (`_relinks`); `merged` holds
    (old, new). A new table's query: Spark's temporary views cannot be updated."""
    columns = ", ".join("coalesce(m.new, r.pkey) AS pkey" if c == "pkey" else f"r.{c}" for c in RES_COLUMNS)
    return f"SELECT {columns} FROM {table} r LEFT JOIN {merged} m ON {_relinks('r', 'm')}"


def relink_in_place_sql(table: str, merged: str) -> str:
    """`relinked_sql` as an update of `table` in place: only the replaced records' rows are written again (DuckDB,
    whose `res` holds every line of the export)."""
    return f"UPDATE {table} SET pkey = m.new FROM {merged} m WHERE {_relinks(table, 'm')}"


def measures_sql(table: str) -> str:
    """Denominator and numerator counts per level, unit and measure (plain SQL: DuckDB and Spark SQL both run it)."""
    parts = []
    for level, unit in LEVELS:
        for measure in MEASURES:
            column = measure.column
            parts.append(
                f"SELECT '{level}' AS level, {unit} AS unit, '{measure.id}' AS measure, "
                f"CAST(SUM(CASE WHEN {column}_den THEN 1 ELSE 0 END) AS BIGINT) AS denominator, "
                f"CAST(SUM(CASE WHEN {column}_num THEN 1 ELSE 0 END) AS BIGINT) AS numerator "
                f"FROM {table} GROUP BY {unit}"
                if level != "overall"
                else f"SELECT '{level}' AS level, 'all' AS unit, '{measure.id}' AS measure, "
                f"CAST(COALESCE(SUM(CASE WHEN {column}_den THEN 1 ELSE 0 END), 0) AS BIGINT) AS denominator, "
                f"CAST(COALESCE(SUM(CASE WHEN {column}_num THEN 1 ELSE 0 END), 0) AS BIGINT) AS numerator "
                f"FROM {table}"
            )
    return " UNION ALL ".join(parts)


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def measures_table(counts: Iterable[tuple[str, str, str, int, int]]) -> pa.Table:
    """The measures table from the engine's counts: rate and direction added, in a fixed order."""
    better = {m.id: m.better for m in MEASURES}
    order = {m.id: i for i, m in enumerate(MEASURES)}
    levels = {level: i for i, (level, _) in enumerate(LEVELS)}
    rows = [
        {
            "level": level,
            "unit": unit,
            "measure": measure,
            "denominator": int(den),
            "numerator": int(num),
            "rate": rate(int(num), int(den)),
            "better": better[measure],
        }
        for level, unit, measure, den, num in counts
    ]
    rows.sort(key=lambda r: (levels[r["level"]], r["unit"], order[r["measure"]]))
    return pa.Table.from_pylist(rows, schema=MEASURE_SCHEMA)


def write_outputs(
    con: Any,
    patients_source: str,
    out: Path,
    quality: Quality,
    run: Mapping[str, Any],
    counts: Sequence[tuple[str, str, str, int, int]] | None = None,
) -> pa.Table:
    """Write patients and measures (Parquet and CSV, sorted, booleans `true`/`false`) and data-quality.json with
    DuckDB, whichever engine evaluated: `patients_source` is a DuckDB relation over the evaluated rows; `counts` are
    the engine's own measure aggregation (DuckDB aggregates when None)."""
    columns = ", ".join(f'"{name}"' for name, _ in PATIENT_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE patients AS SELECT {columns} FROM {patients_source} ORDER BY patient_id")
    out.mkdir(parents=True, exist_ok=True)
    with replaced(out / "patients.parquet") as partial:
        con.execute(f"COPY patients TO '{_sql_path(partial)}' (FORMAT parquet)")
    with replaced(out / "patients.csv") as partial:
        con.execute(f"COPY patients TO '{_sql_path(partial)}' (FORMAT csv, HEADER true)")
    if counts is None:
        counts = con.execute(measures_sql("patients")).fetchall()
    measures = measures_table(counts)
    con.register("measures_view", measures)
    with replaced(out / "measures.parquet") as partial:
        con.execute(f"COPY (SELECT * FROM measures_view) TO '{_sql_path(partial)}' (FORMAT parquet)")
    with replaced(out / "measures.csv") as partial:
        con.execute(f"COPY (SELECT * FROM measures_view) TO '{_sql_path(partial)}' (FORMAT csv, HEADER true)")
    con.unregister("measures_view")
    report = {"run": dict(run), **quality.to_json()}
    write_whole(out / "data-quality.json", json.dumps(report, indent=2, default=str) + "\n")
    return measures


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
