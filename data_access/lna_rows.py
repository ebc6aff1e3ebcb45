"""The learning-needs analysis held in memory per data version: each LNA figure's respondents summed
from arrays, instead of a GROUP BY per figure and per parent slice that differencing compares with.

The LNA holds survey answers already counted per slice (thousands of rows, a few hundred thousand at
most); ``lna_of`` reads them once per data version and process. The sums equal the SQL ones in
``queries_needs`` (a test compares them over many slices, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from data_access.cache import MemoryStore, read_for_version
from data_access.filters import PEOPLE_COLUMNS, Filters
from data_access.schema import Entity, LearningNeed

#: The upload kinds the LNA figures read.
LNA_READS = ("lna", "entities")
KEYS = ("cycle", *PEOPLE_COLUMNS.values(), "report_type", "learning_need", "priority")


@dataclass(frozen=True)
class LnaRows:
    """One data version's LNA rows: a code per row and key column, the value of each code, the respondents."""

    codes: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    respondents: np.ndarray
    latest_cycle: str | None  # as SQL's max() orders the cycles (a collation may not be Python's order)
    entity_names: dict[str, str]

    @classmethod
    def read(cls, conn: Connection) -> LnaRows:
        lna = LearningNeed
        rows = conn.execute(select(*(getattr(lna, key) for key in KEYS), lna.respondents)).all()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(KEYS) + 1)]
        codes, labels = {}, {}
        for key, values in zip(KEYS, columns, strict=False):
            found, uniques = pd.factorize(np.array(values, dtype=object))
            codes[key], labels[key] = found.astype(np.int32), np.asarray(uniques, dtype=object)
        return cls(
            codes=codes,
            labels=labels,
            respondents=np.array(columns[-1], dtype=np.int64),
            latest_cycle=conn.execute(select(func.max(lna.cycle))).scalar(),
            entity_names=dict(conn.execute(select(Entity.entity_code, Entity.entity_name)).all()),
        )

    def sums(self, filters: Filters, keys: list[str], *, need: bool = True, cycle: str | None = None) -> list[tuple]:
        """(value of each of ``keys``..., respondents) per group of the rows in the slice: the rows of
        ``queries_needs._scope(select(*keys, sum(respondents)), filters, need=need, cycle=cycle)`` grouped
        by ``keys``, in no particular order."""
        rows = self._rows(filters, need=need, cycle=cycle)
        group = np.zeros(len(rows), dtype=np.int64)
        for key in keys:
            group = group * len(self.labels[key]) + self.codes[key][rows]
        present, at = np.unique(group, return_inverse=True)
        totals = np.bincount(at, weights=self.respondents[rows], minlength=len(present)).astype(np.int64)
        values: list[list[Any]] = []
        for key in reversed(keys):
            present, code = np.divmod(present, len(self.labels[key]))
            values.insert(0, self.labels[key][code].tolist())
        return list(zip(*values, totals.tolist(), strict=True))

    def _rows(self, filters: Filters, *, need: bool, cycle: str | None) -> np.ndarray:
        """The positions of the rows in the slice (what ``queries_needs._scope`` keeps)."""
        wanted = {column: getattr(filters, name) for name, column in PEOPLE_COLUMNS.items()}
        wanted |= {"report_type": filters.report_type or None, "cycle": cycle}
        if need:
            wanted["learning_need"] = filters.learning_need or None
        keep = np.ones(len(self.respondents), dtype=bool)
        for key, value in wanted.items():
            if value is not None:
                found = np.flatnonzero(self.labels[key] == value)
                keep &= self.codes[key] == (found[0] if len(found) else -2)
        return np.flatnonzero(keep)


def lna_of(engine: Engine, version: str) -> LnaRows | None:
    """The LNA rows of ``version`` (``DataVersions.of(LNA_READS)``), read once per process; None when the
    data changed from ``version`` while they were read (``read_for_version``)."""

    def read() -> LnaRows:
        with engine.connect() as conn:
            return LnaRows.read(conn)

    return read_for_version(_held(engine), version, engine, LNA_READS, read)


@functools.cache
def _held(engine: Engine) -> MemoryStore[LnaRows]:
    return MemoryStore(capacity=2)
