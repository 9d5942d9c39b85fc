"""The cluster engine: the same stages on PySpark (Spark SQL ingest and cohort, the per-patient function through
mapInArrow on patient-partitioned data, the same measures SQL). `local[2]` is how it is tested."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import duckdb

from guideline.population import Quality
from guideline.population.evaluate import PATIENT_COLUMNS
from smart_app.population.inputs import PreparedInputs
from smart_app.population.progress import Progress
from smart_app.population.tables import (
    PATIENT_SCHEMA,
    count_ids_from_full_url,
    count_ingested,
    measures_sql,
    merge_map,
    relinked_sql,
    resources_sql,
    sql_list,
)
from smart_app.population.worker import (
    DIRECTORY_TYPES,
    MEDICATION_TYPES,
    SHARED_TYPES,
    RunContext,
    build_directory,
    bundle_rows,
    evaluate_lines,
    is_bundle,
    line_keys,
)

RECORD = "__quality__"  # the pkey of the one row per partition that carries its data-quality counts
PROJECT_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # on local executors' PYTHONPATH


def java_missing_reason() -> str | None:
    """Why Spark cannot start here, or None."""
    if shutil.which("java") is None:
        return "Java is not installed (PySpark needs a Java 17+ runtime: apt-get install openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    return None


def _spark_schema():  # noqa: ANN202
    from pyspark.sql import types as T

    kinds = {"str": T.StringType(), "date": T.DateType(), "float": T.DoubleType(), "int": T.LongType(),
             "bool": T.BooleanType()}  # fmt: skip
    fields = [T.StructField("pkey", T.StringType()), T.StructField("quality", T.StringType())]
    fields += [T.StructField(name, kinds[kind]) for name, kind in PATIENT_COLUMNS]
    return T.StructType(fields)


def _keyed_lines(batches: Iterator[Any]) -> Iterator[Any]:
    """Each line with what `line_keys` reads of it, a Bundle line as the Bundle and its entries (`bundle_rows`, as
    the DuckDB engine reads it) (runs on the executors)."""
    import pyarrow as pa

    for batch in batches:
        lines = batch.column("value").to_pylist()
        keys = [line_keys(line) for line in lines]
        if not any(is_bundle(k) for k in keys):
            yield pa.RecordBatch.from_arrays(
                [pa.array(lines, pa.string()), pa.array(keys, pa.string()), batch.column("file")],
                names=["line", "keys", "file"],
            )
            continue
        rows: list[tuple[str | None, str | None, str]] = []
        for line, key, file in zip(lines, keys, batch.column("file").to_pylist(), strict=True):
            rows += [(*row, file) for row in bundle_rows(line, key)] if is_bundle(key) else [(line, key, file)]
        yield pa.RecordBatch.from_arrays(
            [pa.array([row[n] for row in rows], pa.string()) for n in range(3)], names=["line", "keys", "file"]
        )


def _evaluator(context: RunContext):  # noqa: ANN202 - a closure Spark ships to its executors
    """Patients arrive partitioned and sorted by pkey (a patient never spans two partitions); consecutive lines of
    one pkey are one patient. The partition's data-quality counts travel as one extra row."""

    def evaluate_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        schema = pa.schema([("pkey", pa.string()), ("quality", pa.string()), *PATIENT_SCHEMA])
        quality = Quality()
        current: str | None = None
        lines: list[str] = []
        out: list[dict[str, Any]] = []

        def finish() -> None:
            row, found = evaluate_lines(current, lines, context)  # type: ignore[arg-type]
            quality.merge(found)
            if row is not None:
                out.append({"pkey": current, "quality": None, **row})

        for batch in batches:
            for pkey, line in zip(batch.column("pkey").to_pylist(), batch.column("line").to_pylist(), strict=True):
                if pkey != current and current is not None:
                    finish()
                    lines = []
                current = pkey
                lines.append(line)
            if len(out) >= 500:
                yield pa.RecordBatch.from_pylist(out, schema=schema)
                out = []
        if current is not None:
            finish()
        out.append({"pkey": RECORD, "quality": json.dumps(quality.to_json())})
        yield pa.RecordBatch.from_pylist(out, schema=schema)

    return evaluate_partition


def _forget_scratch(jvm: Any) -> None:
    """The JVM told to forget its scratch folders: it keeps them for its whole life, so a second review in the same
    process (a worker, the tests) made its Python workers' folder again inside the first run's, after that run had
    removed it (a failed run's hidden folder came back that way). A Spark without the call: only that case is left."""
    with suppress(Exception):
        getattr(getattr(jvm.org.apache.spark.util, "Utils$"), "MODULE$").clearLocalRootDirs()


def run_spark(
    inputs: PreparedInputs, workdir: Path, context_args: dict[str, Any], master: str, progress: Progress
) -> tuple[duckdb.DuckDBPyConnection, str, Quality, Any, list[tuple]]:
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import broadcast, input_file_name

    reason = java_missing_reason()
    if reason:
        from guideline.population import PopulationError

        raise PopulationError(f"--engine spark cannot start: {reason}")
    workdir.mkdir(parents=True, exist_ok=True)
    # Spark's scratch space (shuffle blocks, the Python workers' files) outside the run's folder, which may be removed
    # or swapped while the JVM still knows the path; it is removed once Spark has stopped.
    scratch = Path(tempfile.mkdtemp(prefix="painplan-spark-"))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local executors: this interpreter and its packages
    spark = (
        SparkSession.builder.master(master)
        .appName("painplan-population")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # PainPlan prints its own progress lines
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.local.dir", str(scratch))
        # Local executors run this interpreter and import this checkout; a cluster installs painplan on its workers.
        .config("spark.pyspark.python", os.environ.get("PYSPARK_PYTHON", sys.executable))
        .config(
            "spark.executorEnv.PYTHONPATH", os.pathsep.join(filter(None, (PROJECT_ROOT, os.environ.get("PYTHONPATH"))))
        )
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        quality = Quality()
        progress.begin("ingest", f"{len(inputs.paths)} files on Spark {master}")
        # Python judges every line, as the DuckDB engine's does: the engines must agree on what is malformed.
        lines = (
            spark.read.text(inputs.paths)
            .where("trim(value) <> ''")
            .withColumn("file", input_file_name())
            .mapInArrow(_keyed_lines, schema="line string, keys string, file string")
            .cache()
        )
        lines.createOrReplaceTempView("lines")
        inputs.count_malformed(
            quality, spark.sql("SELECT file, count(*) FROM lines WHERE keys IS NULL GROUP BY 1").collect()
        )
        count_ids_from_full_url(quality, lambda query: spark.sql(query).collect(), "get_json_object", inputs.name_of)
        resources = spark.sql(resources_sql("get_json_object")).cache()
        resources.createOrReplaceTempView("res")
        count_ingested(quality, lambda query: spark.sql(query).collect(), inputs.name_of)
        lines.unpersist()  # `res` holds what the rest of the run reads
        merged = merge_map(quality, lambda query: spark.sql(query).collect(), inputs.name_of)
        if merged:
            # Each replaced record's resources under its surviving id, before the cohort is chosen: the small map
            # is broadcast, the resources stay cached as read (the view replaced is resolved to them, not by name).
            broadcast(spark.createDataFrame(merged, "old string, new string")).createOrReplaceTempView("merged")
            spark.sql(relinked_sql("res", "merged")).createOrReplaceTempView("res")
        directory_lines = [
            r[0] for r in spark.sql(f"SELECT line FROM res WHERE kind IN ({sql_list(DIRECTORY_TYPES)})").collect()
        ]
        context = RunContext(directory=build_directory(directory_lines), **context_args)
        quality.directory_conflicts += context.directory.conflicts
        spark.sql(
            f"SELECT DISTINCT pkey FROM res WHERE pkey IS NOT NULL AND kind IN ({sql_list(MEDICATION_TYPES)})"
        ).createOrReplaceTempView("cohort")
        total = spark.sql("SELECT count(*) FROM cohort").first()[0]
        patient_lines = spark.sql(
            f"""
            SELECT r.pkey, r.line FROM res r JOIN cohort c ON r.pkey = c.pkey
                WHERE r.kind NOT IN ({sql_list(SHARED_TYPES)})
            UNION
            SELECT l.pkey, m.line FROM res l JOIN cohort c ON l.pkey = c.pkey
                JOIN res m ON m.kind = 'Medication' AND m.id = l.medid
            """
        )
        progress.begin("evaluate", f"{total:,} patients with medicines on Spark {master}")
        evaluated = (
            patient_lines.repartition("pkey")
            .sortWithinPartitions("pkey", "line")
            .mapInArrow(_evaluator(context), schema=_spark_schema())
        )
        rows_dir = workdir / "spark-rows"
        evaluated.write.mode("overwrite").parquet(str(rows_dir))
        done = spark.read.parquet(str(rows_dir))
        for (text,) in done.where(f"pkey = '{RECORD}'").select("quality").collect():
            quality.merge(Quality.from_json(json.loads(text)))
        patients = done.where(f"pkey <> '{RECORD}'").drop("pkey", "quality")
        patients.createOrReplaceTempView("patients")
        progress.update(total, total, force=True)
        counts = [tuple(r) for r in spark.sql(measures_sql("patients")).collect()]
    finally:
        jvm = spark.sparkContext._jvm
        spark.stop()
        _forget_scratch(jvm)
        shutil.rmtree(scratch, ignore_errors=True)
    con = duckdb.connect()
    source = f"(SELECT * FROM read_parquet('{rows_dir}/*.parquet') WHERE pkey <> '{RECORD}')"
    return con, source, quality, context.directory, counts
