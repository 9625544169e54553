"""Past one machine: the same rule code on Apache Spark (issue 10).

`families` splits a ruleset into key families, `partition.replay_group` evaluates the records
of one (family, key) with the unchanged `Evaluator`, `batch` runs the rules that need the whole
data (rates, ledgers) once, and `spark` wires them into `groupBy(family, key).applyInPandas`.
`export` writes stored history as Parquet partitioned by month. Only `spark` and `export`
import pyspark or pyarrow (the `spark` extra); the rest is plain Python and pandas.
"""
