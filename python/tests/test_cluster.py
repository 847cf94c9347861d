"""analyze_lines / analyze_partition and the Dask and Spark recipes, end to
end on a generated multi-file corpus: the cluster's records must be exactly
the command line's, file by file."""

import glob
import os
import re
import shutil
import sys
from collections import Counter

import pytest

import faultline

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
RECIPES = os.path.join(os.path.dirname(__file__), os.pardir, "recipes")
sys.path.insert(0, os.path.abspath(RECIPES))

from make_corpus import make_corpus  # noqa: E402


def key(r):
    """A record without where it came from spelled one way or another."""
    source = r["source"] or ""
    source = source[len("file:"):] if source.startswith("file:") else source
    return (os.path.realpath(source), r["line"], r["rule"], r["severity"], r["incident"], r["host"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    paths = make_corpus(str(out), files=6, mib=0.5, every=150)
    # what the command line says, one file at a time
    expected = Counter()
    for p in paths:
        expected.update(key(r) for r in faultline.records(faultline.analyze_file(p)))
    assert sum(1 for k in expected if k[3] == "error") >= 6, "the corpus has failures to find"
    return str(out), paths, expected


def test_records_are_flat_and_complete(corpus):
    _, paths, _ = corpus
    rows = faultline.analyze_files(paths[:1])
    assert rows
    for r in rows:
        assert set(faultline.RECORD_FIELDS) <= set(r)
        assert r["severity"] in ("error", "warning", "info")
        assert 0 < r["confidence"] <= 1
        assert r["source"] == paths[0]


def test_analyze_lines_matches_the_file(corpus):
    _, paths, expected = corpus
    with open(paths[0]) as f:
        rows = faultline.analyze_lines(f, source=paths[0])
    mine = Counter(key(r) for r in rows)
    assert mine == Counter({k: n for k, n in expected.items() if k[0] == os.path.realpath(paths[0])})


def test_analyze_partition_groups_lines_by_path(corpus):
    _, paths, expected = corpus
    pairs = []
    for p in paths[:2]:
        with open(p) as f:
            pairs += [(line, p) for line in f]
    got = Counter(key(r) for r in faultline.analyze_partition(pairs))
    want = {os.path.realpath(p) for p in paths[:2]}
    assert got == Counter({k: n for k, n in expected.items() if k[0] in want})
    # (path, bytes) pairs, as Spark's binaryFiles gives
    blobs = [(p, open(p, "rb").read()) for p in paths[:2]]
    assert Counter(key(r) for r in faultline.analyze_partition(blobs)) == got


def test_dask_recipe_on_a_local_distributed_cluster(corpus):
    pytest.importorskip("dask.bag")
    distributed = pytest.importorskip("dask.distributed")
    import dask_faultline

    out, paths, expected = corpus
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        bag = dask_faultline.diagnose(os.path.join(out, "*", "*.log"))
        assert bag.npartitions == len(paths)  # one partition per file
        rows = bag.compute()
        counts = dask_faultline.failures_by_rule_day_host(bag)
    assert Counter(key(r) for r in rows) == expected
    assert sum(counts.values()) == sum(n for k, n in expected.items() if k[3] in ("error", "warning"))
    assert all(day and day.startswith("2026-11-") for (_, day, _) in counts)


def test_spark_recipe_in_local_mode(corpus, monkeypatch):
    pytest.importorskip("pyspark")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        pytest.skip("PySpark needs Java; none on PATH")
    # Spark's Python workers run `python3` from PATH unless told: this one,
    # where the wheel is installed.
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    import spark_faultline

    out, paths, expected = corpus
    spark = (SparkSession.builder.master("local[2]").appName("faultline-test")
             .config("spark.ui.enabled", "false").getOrCreate())
    try:
        df = spark_faultline.diagnose(spark, [os.path.join(out, "*", "*.log")])
        rows = [r.asDict() for r in df.collect()]
        by_rule = {r["rule"]: r["count"] for r in df.groupBy("rule").count().collect()}
        # The README's one-line Spark example, as written there.
        readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
        example = re.search(r"Spark: `(sc\.binaryFiles\(.*?\))`\.", readme, re.S).group(1)
        example = example.replace('"logs/*/*.log"', repr(os.path.join(out, "*", "*.log")))
        inline = eval(example, {"sc": spark.sparkContext, "faultline": faultline}).collect()
    finally:
        spark.stop()
    assert Counter(key(r) for r in rows) == expected
    assert Counter(key(r) for r in inline) == expected
    assert sum(by_rule.values()) == sum(expected.values())
    assert all(r["day"].startswith("2026-11-") for r in rows)
