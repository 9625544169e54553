"""A Spark standalone cluster on 127.0.0.1 (one master, two one-core workers) and one
SparkSession on it, shared by every Spark test and torn down after them; and the catalogue
scenario (every id planted) with the default engine's results to compare against."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The default engine's figures are compared with Spark's; the scenario is the smallest the
# generator makes with every catalogue id planted (a positive and a near miss each).
SEED = 7
RECORDS_TARGET = 1500

HAVE_PYSPARK = importlib.util.find_spec("pyspark") is not None
NO_PYSPARK = "pyspark is not installed (pip install -e '.[test,spark]')"


@dataclass(frozen=True)
class Scenario:
    reference_dir: Path
    records_path: Path
    planted_ids: frozenset[str]


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    from auditcage.demo.scenario import generate
    from auditcage.demo.writer import write_scenario

    province = generate(seed=SEED, records_target=RECORDS_TARGET)
    reference_dir, records_path = write_scenario(province, tmp_path_factory.mktemp("province"))
    planted = frozenset(case.catalogue_id for case in province.planted if case.fires)
    return Scenario(reference_dir, records_path, planted)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    if not HAVE_PYSPARK:
        pytest.skip(NO_PYSPARK)
    from auditcage.cluster.standalone import StandaloneCluster

    with StandaloneCluster(workers=2) as running:
        yield running


@pytest.fixture(scope="session")
def spark(cluster: Any) -> Iterator[Any]:
    from auditcage.cluster.spark import session

    active = session(cluster.url, partitions=3, app="auditcage-tests")
    yield active
    active.stop()
