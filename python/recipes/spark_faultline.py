#!/usr/bin/env python3
"""faultline as a Spark map step: diagnoses over a directory tree of logs,
aggregated by rule, day and host.

    spark-submit spark_faultline.py 'logs/*/*.log'
    python spark_faultline.py 'logs/*/*.log'          # local mode, pyspark from pip

``binaryFiles`` gives each file whole, as ``(path, bytes)``: one file is
analysed as one text, so a failing exchange is never split, and gzip-
compressed logs are read as faultline reads them. faultline must be
installed on every executor (``pip install faultline`` there, or ship the
wheel with ``--py-files``/an archive of the environment).
"""

import argparse
import os
import re

from pyspark.sql import SparkSession

import faultline

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def records_of(path_and_bytes):
    path, content = path_and_bytes
    # Spark paths are URLs (file:/...): report them as given.
    return faultline.analyze_partition([(path, bytes(content))])


def diagnose(spark, paths):
    """A DataFrame of flat records, one row per diagnosis."""
    if __name__ != "__main__":
        # Imported (not spark-submitted): the executors need this module to
        # unpickle records_of.
        spark.sparkContext.addPyFile(os.path.abspath(__file__))
    rdd = spark.sparkContext.binaryFiles(",".join(paths)).flatMap(records_of)
    rows = rdd.map(lambda r: tuple(r[k] for k in FIELDS) + (_day(r["source"]),))
    return spark.createDataFrame(rows, schema=SCHEMA)


def _day(path):
    m = DAY.search(path or "")
    return m.group(0) if m else None


FIELDS = ("source", "line", "rule", "severity", "confidence", "title", "incident", "status", "host",
          "provider", "error")
SCHEMA = (
    "source string, line long, rule string, severity string, confidence double, title string, "
    "incident long, status long, host string, provider string, error string, day string"
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    spark = SparkSession.builder.appName("faultline").getOrCreate()
    df = diagnose(spark, a.paths)
    (df.where("severity in ('error', 'warning')")
       .groupBy("rule", "day", "host").count()
       .orderBy("count", ascending=False)
       .show(50, truncate=False))
    spark.stop()


if __name__ == "__main__":
    main()
