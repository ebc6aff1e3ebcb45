"""Summaries of ``learning_activity`` that answer the uptake figures in milliseconds at millions of rows.

Activities and completions add up, so they are kept as counts per (entity, duty station, staff
category, gender, platform, enrolment month, completion month, learning need). Distinct learners do
not add up across months, platforms or slices, so they are kept exactly as sets: every (learner,
entity, duty station, staff category, gender) seen is a *persona* with a number, and per (month,
platform) one bitset holds the personas active that month (enrolled or completed), one those
enrolling and one those completing. A question ORs the bitsets of its months and platforms, ANDs the
personas of its slice and counts distinct learners (a learner who moved has several personas, so
those few are counted by learner, not by persona).

The summaries answer whole calendar months, which is what the filter bar sends; a period that
starts or ends mid-month goes to SQL. ``activity_build`` builds them and keeps them current after a
load; ``activity_shelf`` holds them per process and shares them through Redis.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import io
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.extensions import ExtensionArray

from data_access.reads.filters import PEOPLE_COLUMNS, Filters

TOTAL_KEYS = [*PEOPLE_COLUMNS.values(), "platform", "need"]
COUNT_KEYS = [*TOTAL_KEYS, "enrolled", "completed"]
#: Periods whose totals are kept per summaries (a few hundred KB each at 5M rows).
PERIODS_KEPT = 32
#: Unions of months and platforms kept per summaries (about 10 KB each at 5M rows).
UNIONS_KEPT = 64
#: (bitsets' id, first month, last month, platforms or None for each platform apart)
UnionKey = tuple[int, int, int, tuple[int, ...] | None]


class Vocabulary:
    """Codes 0, 1, 2... for the distinct values of a column, in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[object, int] = {}

    def encode(self, values: pd.Series | np.ndarray | pa.Array) -> np.ndarray:
        if isinstance(values, pa.Array):
            encoded = pc.dictionary_encode(values)
            local, uniques = encoded.indices.fill_null(-1).to_numpy(), encoded.dictionary.to_pylist()
        else:
            local, uniques = pd.factorize(values)
        mapped = np.fromiter((self.codes.setdefault(u, len(self.codes)) for u in uniques), np.int64, len(uniques))
        return np.where(local < 0, -1, mapped[np.maximum(local, 0)]) if len(mapped) else np.full(len(local), -1)

    def labels(self) -> np.ndarray:
        return np.array(list(self.codes), dtype=object)


def month_number(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _month_label(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_start(number: int) -> dt.date:
    """The first day of a month given by its number (year * 12 + month - 1)."""
    return dt.date(number // 12, number % 12 + 1, 1)


def _popcount(packed: np.ndarray) -> np.ndarray:
    """Set bits in each row of ``packed`` (bytes along the last axis), counted 8 bytes at a time."""
    whole = packed.shape[-1] // 8 * 8
    counts = np.bitwise_count(packed[..., whole:]).sum(axis=-1, dtype=np.int64)
    try:
        words = packed[..., :whole].view(np.uint64)
    except ValueError:  # bytes not contiguous along the last axis: count them one by one
        return counts + np.bitwise_count(packed[..., :whole]).sum(axis=-1, dtype=np.int64)
    return counts + np.bitwise_count(words).sum(axis=-1, dtype=np.int64)


@dataclass(frozen=True)
class ActivityIndex:
    """The summaries of one data version. Built by ``activity_build.build_index``; ask with the methods below."""

    first_month: int  # month number (year * 12 + month - 1) of month 0
    labels: dict[str, np.ndarray]  # column -> value of each code (people columns, platform, need)
    personas: dict[str, np.ndarray]  # people column or "learner" -> code of each persona
    movers: np.ndarray  # packed bits: personas whose learner has more than one persona
    active: np.ndarray  # packed bits per (month, platform): enrolled or completed in the month
    enrolling: np.ndarray
    completing: np.ndarray  # status completed, completed in the month
    #: Activities and completions per COUNT_KEYS (by month, sorted by enrolment month) and per
    #: TOTAL_KEYS (totals, for an open period); one array per column.
    by_month: dict[str, np.ndarray]
    totals: dict[str, np.ndarray]
    completed: dict[str, np.ndarray]  # completions per TOTAL_KEYS and completion month
    lags: tuple[int, int]  # least and most months from enrolment to completion
    headquarters: np.ndarray  # per duty station code: 1 headquarters, 0 field, -1 not in duty_stations

    @property
    def months(self) -> int:
        return self.active.shape[0]

    @property
    def nbytes(self) -> int:
        """Memory the summaries hold (their arrays)."""
        arrays = [self.movers, self.active, self.enrolling, self.completing, self.headquarters]
        for table in (self.personas, self.by_month, self.totals, self.completed):
            arrays += list(table.values())
        return sum(a.nbytes for a in arrays)

    def to_bytes(self) -> bytes:
        """The summaries as one ``.npz`` (arrays, and their labels as JSON; no pickle), for a shared cache."""
        arrays = {name: getattr(self, name) for name in ("movers", "active", "enrolling", "completing", "headquarters")}
        for table in ("personas", "by_month", "totals", "completed"):
            arrays |= {f"{table}.{column}": values for column, values in getattr(self, table).items()}
        meta = {"first_month": self.first_month, "lags": self.lags,
                "labels": {column: [None if v is None else str(v) for v in values]
                           for column, values in self.labels.items()}}  # fmt: skip
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, value: bytes) -> ActivityIndex:
        with np.load(io.BytesIO(value), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        meta = json.loads(arrays.pop("meta").tobytes())
        tables: dict[str, dict[str, np.ndarray]] = {"personas": {}, "by_month": {}, "totals": {}, "completed": {}}
        for name in [n for n in arrays if "." in n]:
            table, column = name.split(".", 1)
            tables[table][column] = arrays.pop(name)
        labels = {column: np.array(values, dtype=object) for column, values in meta["labels"].items()}
        return cls(first_month=meta["first_month"], lags=tuple(meta["lags"]), labels=labels, **arrays, **tables)

    def prepare(self) -> None:
        """Work out now the lookups that the questions below otherwise work out on their first use
        (a few hundred ms at millions of rows, which the first visit of a period would wait for)."""
        for lookup in ("_total_rows", "_completions_cube", "_mover_bits", "_moving", "_month_text", "_platform_text"):
            getattr(self, lookup)

    def latest_enrolment(self) -> dt.date:
        """The first day of the latest month anyone enrolled in."""
        return month_start(self.first_month + int(self.by_month["enrolled"][-1]))

    def covers(self, filters: Filters) -> bool:
        """Whether the period is whole calendar months (or open), which the summaries answer exactly."""
        start, end = filters.date_from, filters.date_to
        return (start is None or start.day == 1) and (
            end is None or end.day == calendar.monthrange(end.year, end.month)[1]
        )

    # -- the questions the uptake queries ask -------------------------------------------------------

    def uptake_by(self, filters: Filters, dimension: str | None) -> pd.DataFrame:
        """learners, completers, activities, completions per ``dimension`` value (None: one total row)."""
        return _frame(self.uptake_columns(filters, dimension))

    def uptake_columns(self, filters: Filters, dimension: str | None) -> dict[str, np.ndarray]:
        """``uptake_by`` as columns (arrays), before they are made a table."""
        lo, hi = self._period(filters)
        platforms = self._platforms(filters)
        table, keep = self._tally(filters)
        people = self._people_bits(filters)
        if dimension is None:
            groups = np.array([None], dtype=object)
            learners = np.array([self._distinct(self._union(self.active, lo, hi, platforms) & people)], np.int64)
            completers = np.array([self._distinct(self._union(self.completing, lo, hi, platforms) & people)], np.int64)
            row_group = None
        elif dimension == "platform":
            groups = self.labels["platform"]
            learners = self._distinct_each(self._union_each(self.active, lo, hi) & people)
            completers = self._distinct_each(self._union_each(self.completing, lo, hi) & people)
            row_group = table["platform"]
        else:
            persona_group, groups = self._grouping(dimension, self.personas)
            row_group, _ = self._grouping(dimension, table)
            learners = self._distinct_by(
                self._union(self.active, lo, hi, platforms) & people, persona_group, len(groups)
            )
            completers = self._distinct_by(
                self._union(self.completing, lo, hi, platforms) & people, persona_group, len(groups)
            )
        sums = (table["activities"], table["completions"])
        activities, completions = self._sums_by(row_group, sums, keep, len(groups))
        counts = {"learners": learners, "completers": completers, "activities": activities, "completions": completions}
        if dimension is None:
            return counts
        present = activities > 0
        order = np.argsort(groups[present].astype(str), kind="stable")
        return {dimension: groups[present][order]} | {k: v[present][order] for k, v in counts.items()}

    def uptake_by_month(self, filters: Filters) -> pd.DataFrame:
        """Distinct learners enrolling and completions per (month, platform) with either, in month and
        platform order."""
        lo, hi = self._period(filters)
        grids = {
            "learners_enrolling": self._enrolling_grid(filters, lo, hi),
            "completions": self._completions_grid(filters, lo, hi),
        }
        return self._cells(lo, grids)

    def _enrolling_grid(self, filters: Filters, lo: int, hi: int) -> np.ndarray:
        """Distinct learners enrolling per (month lo..hi, platform), as a months x platforms array."""
        platforms = self._platforms(filters)
        cells = self._months_of(self.enrolling, lo, hi, platforms) & self._people_bits(filters)
        grid = np.zeros((max(hi - lo + 1, 0), len(self.labels["platform"])), dtype=np.int64)
        if cells.size:
            grid[:, platforms] = self._distinct_each(cells.reshape(-1, cells.shape[-1])).reshape(cells.shape[:2])
        return grid

    def _cells(self, lo: int, grids: dict[str, np.ndarray]) -> pd.DataFrame:
        """The (month, platform) cells where any of ``grids`` (months lo.. x platforms) is not zero, in
        month and platform name order."""
        names = self.labels["platform"]
        order = np.argsort(names.astype(str), kind="stable")
        columns = {name: grid[:, order] for name, grid in grids.items()}
        month, platform = np.nonzero(np.logical_or.reduce([grid != 0 for grid in columns.values()]))
        labels = {"month": self._month_text.take(lo + month), "platform": self._platform_text.take(order[platform])}
        return _frame(labels | {name: grid[month, platform] for name, grid in columns.items()})

    def _completions_grid(self, filters: Filters, lo: int, hi: int) -> np.ndarray:
        """Completions per (month lo..hi, platform) in the slice, as a months x platforms array.

        Read from ``_completions_cube``: the slice is picked among its few thousand groups, and only the
        picked groups' months are added up (picking the slice's rows out of the completions by month,
        twenty times as many at 5M rows, cost several times more).
        """
        groups, cube, starts = self._completions_cube
        grid = np.zeros((max(hi - lo + 1, 0), len(starts) - 1), dtype=np.int64)
        if hi < lo:
            return grid
        keep = self._in_slice(groups, filters)
        for platform, (start, stop) in enumerate(itertools.pairwise(starts.tolist())):
            rows = np.flatnonzero(keep[start:stop])
            if len(rows):
                grid[:, platform] = cube[start:stop][rows, lo : hi + 1].sum(axis=0, dtype=np.int64)
        return grid

    @functools.cached_property
    def _month_text(self) -> ExtensionArray:
        """Each month's label (``2024-09``), as the text the tables hold."""
        return pd.array([_month_label(self.first_month + m) for m in range(self.months)], dtype="str")

    @functools.cached_property
    def _platform_text(self) -> ExtensionArray:
        return pd.array(self.labels["platform"], dtype="str")

    @functools.cached_property
    def _completions_cube(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Completions per (people and platform group, completion month): the groups (a column per
        key, in platform order), their completions by month, and where each platform's groups start
        (one more, the end). About 4 MB at 5M activity rows."""
        keys = [*PEOPLE_COLUMNS.values(), "platform"]
        table = self.completed
        code = np.zeros(len(table["platform"]), dtype=np.int64)
        for column in reversed(keys):  # platform varies slowest: groups sort in platform order
            code = code * (len(self.labels[column]) + 1) + table[column].astype(np.int64) + 1
        unique, group = np.unique(code, return_inverse=True)
        first = np.unique(group, return_index=True)[1]
        groups = {column: table[column][first] for column in keys}
        cell = group.astype(np.int64) * self.months + table["completed"].astype(np.int64)
        cube = np.bincount(cell, weights=table["completions"], minlength=len(unique) * self.months)
        starts = np.searchsorted(groups["platform"], np.arange(len(self.labels["platform"]) + 1))
        # A group's completions in one month fit 32 bits; halving the bytes halves the time to add them up.
        return groups, cube.astype(np.int32).reshape(len(unique), self.months), starts

    def completions_by_need(self, filters: Filters) -> pd.DataFrame:
        """Completions in the period per learning need (rows without one left out)."""
        table, keep = self._tally(filters)
        (totals,) = self._sums_by(table["need"], (table["completions"],), keep, len(self.labels["need"]))
        present = totals > 0
        return _frame({"learning_need": self.labels["need"][present], "completions": totals[present]})

    # -- building blocks ----------------------------------------------------------------------------

    def _period(self, filters: Filters) -> tuple[int, int]:
        """The period's first and last month numbers within the data (an empty range is lo, lo - 1)."""
        lo = 0 if filters.date_from is None else month_number(filters.date_from.isoformat()) - self.first_month
        hi = self.months - 1
        if filters.date_to is not None:
            hi = month_number(filters.date_to.isoformat()) - self.first_month
        lo, hi = max(lo, 0), min(hi, self.months - 1)
        return lo, max(hi, lo - 1)

    def _tally(self, filters: Filters) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Counts per TOTAL_KEYS for the period, and which of its rows are in the slice."""
        lo, hi = self._period(filters)
        table = self.totals if (lo, hi) == (0, self.months - 1) else self._period_totals(lo, hi)
        return table, self._in_slice(table, filters)

    def _period_totals(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """``totals`` for months lo..hi: activities enrolled or completed in them, completions in them.

        One pass over the period's count rows, kept for the next questions about the same period
        (every figure of a page, every slice, and the parent slices that differencing compares with).
        """
        found = self._periods.get((lo, hi))
        if found is not None:
            return found
        # Rows are sorted by enrolment month, and a row counts when enrolled or completed in the period.
        enrolled = self.by_month["enrolled"]
        start = np.searchsorted(enrolled, lo - self.lags[1], "left")
        stop = np.searchsorted(enrolled, hi - min(self.lags[0], 0), "right")
        rows = self._total_rows[start:stop]
        completed = self._between(self.by_month["completed"][start:stop], lo, hi)
        scoped = completed | self._between(enrolled[start:stop], lo, hi)
        size = len(self.totals["platform"])

        def total(column: str, where: np.ndarray) -> np.ndarray:
            weights = self.by_month[column][start:stop][where]
            return np.bincount(rows[where], weights=weights, minlength=size).astype(np.int64)

        table = {column: self.totals[column] for column in TOTAL_KEYS}
        table |= {"activities": total("activities", scoped), "completions": total("completions", completed)}
        if len(self._periods) >= PERIODS_KEPT:
            self._periods.clear()
        self._periods[(lo, hi)] = table
        return table

    @functools.cached_property
    def _periods(self) -> dict[tuple[int, int], dict[str, np.ndarray]]:
        return {}

    @functools.cached_property
    def _total_rows(self) -> np.ndarray:
        """For each ``by_month`` row, the ``totals`` row with the same TOTAL_KEYS."""

        def codes(table: dict[str, np.ndarray]) -> np.ndarray:
            code = np.zeros(len(table["platform"]), dtype=np.int64)
            for column in TOTAL_KEYS:
                code = code * (len(self.labels[column]) + 1) + table[column].astype(np.int64) + 1
            return code

        totals = codes(self.totals)
        order = np.argsort(totals, kind="stable")
        return order[np.searchsorted(totals, codes(self.by_month), sorter=order)]

    @staticmethod
    def _between(months: np.ndarray, lo: int, hi: int) -> np.ndarray:
        return (months >= lo) & (months <= hi)

    def _code(self, column: str, value: str) -> int:
        found = np.flatnonzero(self.labels[column] == value)
        return int(found[0]) if len(found) else -1

    def _platforms(self, filters: Filters) -> list[int]:
        if filters.platform is None:
            return list(range(len(self.labels["platform"])))
        code = self._code("platform", filters.platform)
        return [] if code < 0 else [code]

    def _in_slice(self, table: dict[str, np.ndarray], filters: Filters) -> np.ndarray:
        """Rows of a count table in the slice and on the filter's platform."""
        keep = self._of_people(table, filters)
        if filters.platform is not None:
            keep &= table["platform"] == self._code("platform", filters.platform)
        return keep

    def _people_bits(self, filters: Filters) -> np.ndarray:
        return np.packbits(self._of_people(self.personas, filters))

    def _of_people(self, table: dict[str, np.ndarray], filters: Filters) -> np.ndarray:
        """Rows of ``table`` (a count table, or the personas) matching the filters' people columns."""
        keep = np.ones(len(table[PEOPLE_COLUMNS["entity"]]), dtype=bool)
        for name, column in PEOPLE_COLUMNS.items():
            value = getattr(filters, name)
            if value is not None:
                keep &= table[column] == self._code(column, value)
        return keep

    def _union(self, bits: np.ndarray, lo: int, hi: int, platforms: Iterable[int]) -> np.ndarray:
        """The personas in any of months lo..hi on any of ``platforms``."""
        platforms = list(platforms)

        def union() -> np.ndarray:
            chosen = self._months_of(bits, lo, hi, platforms)
            if chosen.size == 0:
                return np.zeros(bits.shape[-1], dtype=np.uint8)
            return np.bitwise_or.reduce(chosen.reshape(-1, bits.shape[-1]), axis=0)

        return self._kept_union((id(bits), lo, hi, tuple(platforms)), union)

    def _union_each(self, bits: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Per platform, the personas in any of months lo..hi (one bitset per platform)."""

        def union() -> np.ndarray:
            if hi < lo:
                return np.zeros(bits.shape[1:], dtype=np.uint8)
            return np.bitwise_or.reduce(bits[lo : hi + 1], axis=0)

        return self._kept_union((id(bits), lo, hi, None), union)

    def _kept_union(self, key: UnionKey, union: Callable[[], np.ndarray]) -> np.ndarray:
        """``union()``, kept for the next questions about the same period: every figure of a page, every
        slice and the parent slices differencing reads ask for the same one. Keys hold the bitsets' id:
        they live as long as the index, so an id names one of them."""
        found = self._unions.get(key)
        if found is None:
            found = union()
            found.flags.writeable = False
            if len(self._unions) >= UNIONS_KEPT:
                self._unions.clear()
            self._unions[key] = found
        return found

    @functools.cached_property
    def _unions(self) -> dict[UnionKey, np.ndarray]:
        return {}

    def _months_of(self, bits: np.ndarray, lo: int, hi: int, platforms: list[int]) -> np.ndarray:
        """The bitsets of months lo..hi and ``platforms`` (a view, not a copy, when that is every platform)."""
        if platforms == list(range(bits.shape[1])):
            return bits[lo : hi + 1]
        return bits[lo : hi + 1][:, platforms]

    @functools.cached_property
    def _moving(self) -> np.ndarray:
        """Per persona, whether it is one of a learner who moved (``movers``, unpacked)."""
        return self._unpack(self.movers)

    def _unpack(self, packed: np.ndarray) -> np.ndarray:
        return np.unpackbits(packed, count=len(self.personas["learner"])).astype(bool)

    def _distinct(self, packed: np.ndarray) -> int:
        """Distinct learners among the personas in ``packed``."""
        return int(self._distinct_each(packed[np.newaxis])[0])

    def _distinct_each(self, packed: np.ndarray) -> np.ndarray:
        """Distinct learners in each row of ``packed`` (one persona bitset per row).

        Every persona counts once, except those of learners who moved: only the bytes holding such
        personas are looked at again, and there learners are counted instead of personas.
        """
        counts = _popcount(packed)
        where, learner, learners = self._mover_bits
        if not len(where):
            return counts
        moving = packed[..., where] & self.movers[where]
        counts -= _popcount(moving)
        rows, bits = np.nonzero(np.unpackbits(moving, axis=-1))
        if len(rows):
            pairs = np.unique(rows.astype(np.int64) * learners + learner[bits])
            counts += np.bincount(pairs // learners, minlength=len(counts))
        return counts

    @functools.cached_property
    def _mover_bits(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The bytes of the persona bitsets that hold a mover, the learner of each of their bits (0 where
        a bit holds no mover: such bits are never set once masked with ``movers``), and how many
        learner codes there are."""
        where = np.flatnonzero(self.movers)
        personas = (where[:, np.newaxis] * 8 + np.arange(8)).ravel()
        known = personas < len(self.personas["learner"])
        learner = np.zeros(len(personas), dtype=np.int64)
        learner[known] = self.personas["learner"][personas[known]]
        return where, learner, int(self.personas["learner"].max(initial=-1)) + 1

    def _distinct_by(self, packed: np.ndarray, persona_group: np.ndarray, groups: int) -> np.ndarray:
        """Distinct learners among the personas in ``packed``, per group (a group code of -1 is dropped).

        Rows are picked by position (``flatnonzero``, then ``take``): a boolean mask over every
        persona cost several times more.
        """
        chosen = self._unpack(packed) & (persona_group >= 0)
        moving = self._moving
        counts = np.bincount(persona_group.take(np.flatnonzero(chosen & ~moving)), minlength=groups)[:groups]
        movers = np.flatnonzero(chosen & moving)
        if len(movers):
            pairs = persona_group.take(movers).astype(np.int64) * len(self.personas["learner"])
            pairs = np.unique(pairs + self.personas["learner"].take(movers))
            counts = counts + np.bincount(pairs // len(self.personas["learner"]), minlength=groups)[:groups]
        return counts.astype(np.int64)

    @staticmethod
    def _sums_by(
        group: np.ndarray | None, weights: tuple[np.ndarray, ...], keep: np.ndarray, groups: int
    ) -> list[np.ndarray]:
        """Each of ``weights`` summed over the kept rows per group (None: one total; a code of -1 is dropped).

        The kept rows are gathered once for all the sums: a slice keeps few of the rows, and a
        boolean mask per sum cost several times more.
        """
        rows = np.flatnonzero(keep if group is None else keep & (group >= 0))
        if group is None:
            return [np.array([int(column[rows].sum())], dtype=np.int64) for column in weights]
        codes = group[rows]
        return [
            np.bincount(codes, weights=column[rows], minlength=groups)[:groups].astype(np.int64) for column in weights
        ]

    def _grouping(self, dimension: str | None, table: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(group code per row of ``table``, group labels) for a breakdown; code -1 belongs to no group."""
        if dimension is None:
            return np.zeros(len(table[PEOPLE_COLUMNS["entity"]]), np.int64), np.array([None], dtype=object)
        if dimension == "location":
            return self.headquarters[table["duty_station_code"]], np.array(["Field", "Headquarters"], dtype=object)
        return table[PEOPLE_COLUMNS[dimension]], self.labels[PEOPLE_COLUMNS[dimension]]


def _frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame with the dtypes the SQL queries' frames get (built from rows of Python values), empty
    frames included: columns of numbers and text as they are, and no rows as columns of objects."""
    if any(len(values) for values in columns.values()):
        return pd.DataFrame(columns)
    return pd.DataFrame([], columns=list(columns))
