"""The embedded engine: DuckDB reads and buckets the NDJSON, a process pool evaluates patients, DuckDB aggregates."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from guideline.population import Quality
from smart_app.population.inputs import ENGINE_MAX_LINE_BYTES, PreparedInputs
from smart_app.population.progress import Progress
from smart_app.population.tables import (
    PATIENT_SCHEMA,
    count_ids_from_full_url,
    count_ingested,
    merge_map,
    relink_in_place_sql,
    resources_sql,
    rows_to_table,
    sql_list,
)
from smart_app.population.worker import (
    BUNDLE_KEYS,
    DIRECTORY_TYPES,
    MEDICATION_TYPES,
    SHARED_TYPES,
    RunContext,
    build_directory,
    bundle_rows,
    evaluate_chunk,
    init_worker,
    line_keys,
)

PATIENTS_PER_BUCKET = 5_000  # what one bucket's lines cost in memory is bounded by this many patients
PATIENTS_PER_TASK = 200


def ingest(con: duckdb.DuckDBPyConnection, inputs: PreparedInputs, quality: Quality) -> None:
    """Read every line once: its type, id, patient and Medication reference; count what cannot be used, by file."""
    # Python judges every line, as the Spark engine's does: the engines must agree on what is malformed.
    con.create_function(
        "painplan_line_keys", line_keys, ["VARCHAR"], "VARCHAR", null_handling="special", side_effects=False
    )
    con.execute(
        """
        CREATE TABLE lines AS
        SELECT line, painplan_line_keys(line) AS keys, filename AS file FROM read_csv(?, columns={'line': 'VARCHAR'},
            delim=chr(1), header=false, quote='', escape='', auto_detect=false, max_line_size=?, strict_mode=false,
            filename=true)
        WHERE line IS NOT NULL AND trim(line) <> ''
        """,
        [inputs.paths, ENGINE_MAX_LINE_BYTES],
    )
    read_bundles(con)
    count_ids_from_full_url(quality, lambda query: con.execute(query).fetchall(), "json_extract_string", inputs.name_of)
    inputs.count_malformed(
        quality, con.execute("SELECT file, count(*) FROM lines WHERE keys IS NULL GROUP BY 1").fetchall()
    )
    con.execute("CREATE TABLE res AS " + resources_sql("json_extract_string"))
    con.execute("DROP TABLE lines")
    count_ingested(quality, lambda query: con.execute(query).fetchall(), inputs.name_of)


_ROWS = duckdb.list_type(duckdb.struct_type({"line": "VARCHAR", "keys": "VARCHAR"}))


def read_bundles(con: duckdb.DuckDBPyConnection) -> None:
    """Each Bundle line of `lines` as the Bundle and its entries, each a line of its own (`bundle_rows`, as the Spark
    engine reads it): only the Bundle lines are read again."""

    def rows(line: str, keys: str) -> list[dict[str, str | None]]:
        return [{"line": text, "keys": entry} for text, entry in bundle_rows(line, keys)]

    con.create_function("painplan_bundle_rows", rows, ["VARCHAR", "VARCHAR"], _ROWS, side_effects=False)
    bundles = f"keys LIKE '{BUNDLE_KEYS}%'"
    con.execute(f"CREATE TEMP TABLE bundles AS SELECT line, keys, file FROM lines WHERE {bundles}")
    if not con.execute("SELECT count(*) FROM bundles").fetchone()[0]:
        con.execute("DROP TABLE bundles")
        return
    con.execute(f"DELETE FROM lines WHERE {bundles}")
    con.execute(
        "INSERT INTO lines SELECT row.line, row.keys, file "
        "FROM (SELECT unnest(painplan_bundle_rows(line, keys)) AS row, file FROM bundles)"
    )
    con.execute("DROP TABLE bundles")


def merge_replaced_records(
    con: duckdb.DuckDBPyConnection, quality: Quality, file_name: Callable[[str], str] = str
) -> None:
    """Each replaced Patient record's resources under its surviving id, before the cohort is chosen (the map and
    the rule are the Spark engine's too: tables.merge_map, tables.relink_in_place_sql). In place: only the merged
    records' rows are written again."""
    merged = merge_map(quality, lambda query: con.execute(query).fetchall(), file_name)
    if not merged:
        return
    con.execute("CREATE TEMP TABLE merged (old VARCHAR, new VARCHAR)")
    con.executemany("INSERT INTO merged VALUES (?, ?)", merged)
    con.execute(relink_in_place_sql("res", "merged"))
    con.execute("DROP TABLE merged")


def select_cohort(con: duckdb.DuckDBPyConnection, buckets_hint: int | None = None) -> tuple[int, int]:
    """Patients with any medication fill or order (a superset of the cohort: the engine decides the rest),
    each in a bucket by a hash of their id. Returns (patients, buckets)."""
    con.execute(
        f"CREATE TABLE cohort AS SELECT DISTINCT pkey FROM res WHERE pkey IS NOT NULL "
        f"AND kind IN ({sql_list(MEDICATION_TYPES)})"
    )
    patients = con.execute("SELECT count(*) FROM cohort").fetchone()[0]
    buckets = buckets_hint or max(1, math.ceil(patients / PATIENTS_PER_BUCKET))
    con.execute(f"ALTER TABLE cohort ADD COLUMN bucket INTEGER; UPDATE cohort SET bucket = hash(pkey) % {buckets}")
    con.execute(
        # Stored in bucket order: each bucket's query then reads only its own row groups (DuckDB's zone maps), so
        # the evaluation reads the table once however many buckets there are.
        f"""
        CREATE TABLE patient_lines AS
        SELECT * FROM (
        SELECT r.pkey, r.line, c.bucket FROM res r JOIN cohort c USING (pkey)
        WHERE r.kind NOT IN ({sql_list(SHARED_TYPES)})
        UNION ALL
        SELECT DISTINCT l.pkey, m.line, c.bucket
        FROM res l JOIN cohort c USING (pkey) JOIN res m ON m.kind = 'Medication' AND m.id = l.medid
        ) ORDER BY bucket, pkey
        """
    )
    return patients, buckets


def bucket_patients(con: duckdb.DuckDBPyConnection, bucket: int) -> Iterator[tuple[str, list[str]]]:
    """One bucket's patients with their lines, streamed from DuckDB in patient order."""
    # Each patient's lines in text order, as the Spark engine sorts them: a parallel aggregate's own order varies
    # from run to run, and where a chart leaves a tie (two fills of a drug on one day) the order decides it.
    cursor = con.execute(
        "SELECT pkey, list(line ORDER BY line) FROM patient_lines WHERE bucket = ? GROUP BY pkey ORDER BY pkey",
        [bucket],
    )
    while batch := cursor.fetchmany(1000):
        yield from ((pkey, list(lines)) for pkey, lines in batch)


def _chunks(items: Iterator[tuple[str, list[str]]], size: int) -> Iterator[list[tuple[str, list[str]]]]:
    chunk: list[tuple[str, list[str]]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_duckdb(
    inputs: PreparedInputs, workdir: Path, context_args: dict[str, Any], workers: int, progress: Progress
) -> tuple[duckdb.DuckDBPyConnection, str, Quality, Any, None]:
    """Ingest, bucket and evaluate. Returns the connection, the relation holding the evaluated rows, the
    data-quality counts, the directory (for letters) and None (DuckDB aggregates the measures when writing)."""
    quality = Quality()
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "population.duckdb"
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    con.execute(f"SET temp_directory = '{workdir / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    progress.begin("ingest", f"{len(inputs.paths)} files")
    ingest(con, inputs, quality)
    directory_lines = [
        row[0] for row in con.execute(f"SELECT line FROM res WHERE kind IN ({sql_list(DIRECTORY_TYPES)})").fetchall()
    ]
    context = RunContext(directory=build_directory(directory_lines), **context_args)
    quality.directory_conflicts += context.directory.conflicts
    merge_replaced_records(con, quality, inputs.name_of)
    total, buckets = select_cohort(con)
    progress.begin("evaluate", f"{total:,} patients with medicines in {buckets} buckets, {workers} workers")
    rows_path = workdir / "rows.parquet"
    writer = pq.ParquetWriter(str(rows_path), PATIENT_SCHEMA)
    done = 0

    def take(rows: list[dict[str, Any]], found: Quality) -> None:
        nonlocal done
        quality.merge(found)
        if rows:
            writer.write_table(rows_to_table(rows))

    try:
        if workers <= 1:
            init_worker(context)
            for bucket in range(buckets):
                for chunk in _chunks(bucket_patients(con, bucket), PATIENTS_PER_TASK):
                    take(*evaluate_chunk(chunk))
                    done += len(chunk)
                    progress.update(done, total)
        else:
            with ProcessPoolExecutor(workers, initializer=init_worker, initargs=(context,)) as pool:
                pending: dict[Future, int] = {}
                for bucket in range(buckets):
                    for chunk in _chunks(bucket_patients(con, bucket), PATIENTS_PER_TASK):
                        while len(pending) >= workers * 2:  # bounded: never more than this many chunks in flight
                            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                            for future in finished:
                                take(*future.result())
                                done += pending.pop(future)
                            progress.update(done, total)
                        pending[pool.submit(evaluate_chunk, chunk)] = len(chunk)
                for future in list(pending):
                    take(*future.result())
                    done += pending.pop(future)
        progress.update(done, total, force=True)
    finally:
        writer.close()
    con.execute("DROP TABLE patient_lines; DROP TABLE res")
    return con, f"read_parquet('{rows_path}')", quality, context.directory, None


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))
