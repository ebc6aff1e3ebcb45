"""Summaries of ``learning_activity`` that answer the uptake figures in milliseconds at millions of rows.

Activities and completions add up, so they are kept as counts per (entity, duty station, staff
category, gender, platform, enrolment month, completion month, completed, learning need). Distinct
learners do not add up across months, platforms or slices, so they are kept exactly as sets: every
(learner, entity, duty station, staff category, gender) seen is a *persona* with a number, and per
(month, platform) one bitset holds the personas active that month (enrolled or completed), one those
enrolling and one those completing. A question ORs the bitsets of its months and platforms, ANDs the
personas of its slice and counts distinct learners (a learner who moved has several personas, so
those few are counted by learner, not by persona).

The summaries answer whole calendar months, which is what the filter bar sends; a period that
starts or ends mid-month goes to SQL. They are built from one streamed read of the table, in the
background after a commit, and held in each process's memory (and in Redis, for the other workers).
After a load only the months its rows touched are read again (``update_index``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, or_, select

from data_access.cache import MemoryStore, Store, cache_key, data_versions
from data_access.filters import Filters
from data_access.schema import HISTORY_TABLES, DutyStation, LearningActivity, UploadBatch

log = logging.getLogger(__name__)

#: The people columns of an activity row, in persona order; each is also a filter.
PEOPLE = {"entity": "entity_code", "duty_station": "duty_station_code", "staff_category": "staff_category",
          "gender": "gender"}  # fmt: skip
#: Rows read per round trip while building (bounds the build's memory).
CHUNK_ROWS = 100_000
#: Per-chunk counts are merged whenever they hold more rows than this.
COMPACT_ROWS = 2_000_000
_TOTAL_KEYS = [*PEOPLE.values(), "platform", "need"]
_COUNT_KEYS = [*_TOTAL_KEYS, "enrolled", "completed"]


class _Vocabulary:
    """Codes 0, 1, 2... for the distinct values of a column, in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[object, int] = {}

    def encode(self, values: pd.Series | np.ndarray) -> np.ndarray:
        local, uniques = pd.factorize(values)
        mapped = np.fromiter((self.codes.setdefault(u, len(self.codes)) for u in uniques), np.int64, len(uniques))
        return np.where(local < 0, -1, mapped[np.maximum(local, 0)]) if len(mapped) else np.full(len(local), -1)

    def labels(self) -> np.ndarray:
        return np.array(list(self.codes), dtype=object)


def _month_number(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _month_label(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def _popcount(packed: np.ndarray) -> np.ndarray:
    return np.bitwise_count(packed).sum(axis=-1, dtype=np.int64)


@dataclass(frozen=True)
class ActivityIndex:
    """The summaries of one data version. Build with ``build_index``; ask with the methods below."""

    first_month: int  # month number (year * 12 + month - 1) of month 0
    labels: dict[str, np.ndarray]  # column -> value of each code (people columns, platform, need)
    personas: dict[str, np.ndarray]  # people column or "learner" -> code of each persona
    movers: np.ndarray  # packed bits: personas whose learner has more than one persona
    active: np.ndarray  # packed bits per (month, platform): enrolled or completed in the month
    enrolling: np.ndarray
    completing: np.ndarray  # status completed, completed in the month
    #: Activities and completions per _COUNT_KEYS (by month, sorted by enrolment month) and per
    #: _TOTAL_KEYS (totals, for an open period); one array per column.
    by_month: dict[str, np.ndarray]
    totals: dict[str, np.ndarray]
    completed: dict[str, np.ndarray]  # completions per _TOTAL_KEYS and completion month
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

    def latest_enrolment(self) -> dt.date:
        """The first day of the latest month anyone enrolled in."""
        number = self.first_month + int(self.by_month["enrolled"][-1])
        return dt.date(number // 12, number % 12 + 1, 1)

    def covers(self, filters: Filters) -> bool:
        """Whether the period is whole calendar months (or open), which the summaries answer exactly."""
        start, end = filters.date_from, filters.date_to
        return (start is None or start.day == 1) and (
            end is None or end.day == calendar.monthrange(end.year, end.month)[1]
        )

    # -- the questions the uptake queries ask -------------------------------------------------------

    def uptake_by(self, filters: Filters, dimension: str | None) -> pd.DataFrame:
        """learners, completers, activities, completions per ``dimension`` value (None: one total row)."""
        lo, hi = self._period(filters)
        platforms = self._platforms(filters)
        table, scoped, completed = self._tally(filters)
        people = self._people_bits(filters)
        if dimension == "platform":
            groups = self.labels["platform"]
            learners = [self._distinct(self._union(self.active, lo, hi, [p]) & people) for p in range(len(groups))]
            completers = [
                self._distinct(self._union(self.completing, lo, hi, [p]) & people) for p in range(len(groups))
            ]
            learners, completers = np.array(learners, np.int64), np.array(completers, np.int64)
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
        activities = self._sum_by(row_group, table["activities"], scoped, len(groups))
        completions = self._sum_by(row_group, table["completions"], completed, len(groups))
        counts = {"learners": learners, "completers": completers, "activities": activities, "completions": completions}
        if dimension is None:
            return _frame(counts)
        present = activities > 0
        order = np.argsort(groups[present].astype(str), kind="stable")
        return _frame({dimension: groups[present][order]} | {k: v[present][order] for k, v in counts.items()})

    def enrolling_by_month(self, filters: Filters) -> pd.DataFrame:
        """Distinct learners enrolling per (month, platform) with any."""
        lo, hi = self._period(filters)
        platforms = self._platforms(filters)
        cells = self.enrolling[lo : hi + 1][:, platforms] & self._people_bits(filters)
        learners = self._distinct_each(cells.reshape(-1, cells.shape[-1])).reshape(cells.shape[:2])
        month, platform = np.nonzero(learners)
        return _frame(
            {
                "month": np.array([_month_label(self.first_month + lo + m) for m in month], dtype=object),
                "platform": self.labels["platform"][np.array(platforms, dtype=np.int64)[platform]],
                "learners_enrolling": learners[month, platform],
            }
        )

    def completions_by_month(self, filters: Filters) -> pd.DataFrame:
        """Completions per (completion month, platform) with any."""
        lo, hi = self._period(filters)
        table = self.completed
        keep = self._in_slice(table, filters) & self._between(table["completed"], lo, hi)
        groups = table["completed"][keep].astype(np.int64) * len(self.labels["platform"]) + table["platform"][keep]
        totals = np.bincount(groups, weights=table["completions"][keep]).astype(np.int64)
        present = np.flatnonzero(totals)
        month, platform = np.divmod(present, len(self.labels["platform"]))
        return _frame(
            {
                "month": np.array([_month_label(self.first_month + int(m)) for m in month], dtype=object),
                "platform": self.labels["platform"][platform],
                "completions": totals[present],
            }
        )

    def completions_by_need(self, filters: Filters) -> pd.DataFrame:
        """Completions in the period per learning need (rows without one left out)."""
        table, _, completed = self._tally(filters)
        totals = self._sum_by(table["need"], table["completions"], completed, len(self.labels["need"]))
        present = totals > 0
        return _frame({"learning_need": self.labels["need"][present], "completions": totals[present]})

    # -- building blocks ----------------------------------------------------------------------------

    def _period(self, filters: Filters) -> tuple[int, int]:
        """The period's first and last month numbers within the data (an empty range is lo, lo - 1)."""
        lo = 0 if filters.date_from is None else _month_number(filters.date_from.isoformat()) - self.first_month
        hi = self.months - 1
        if filters.date_to is not None:
            hi = _month_number(filters.date_to.isoformat()) - self.first_month
        lo, hi = max(lo, 0), min(hi, self.months - 1)
        return lo, max(hi, lo - 1)

    def _tally(
        self, filters: Filters, *, by_month: bool = False
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The count table rows that can matter, and which of them are in scope and completed in the period."""
        lo, hi = self._period(filters)
        if not by_month and (lo, hi) == (0, self.months - 1):
            keep = self._in_slice(self.totals, filters)
            return self.totals, keep, keep
        # Rows are sorted by enrolment month, and a row counts when enrolled or completed in the period.
        enrolled = self.by_month["enrolled"]
        start = np.searchsorted(enrolled, lo - self.lags[1], "left")
        stop = np.searchsorted(enrolled, hi - min(self.lags[0], 0), "right")
        table = {column: values[start:stop] for column, values in self.by_month.items()}
        keep = self._in_slice(table, filters)
        completed = keep & self._between(table["completed"], lo, hi)
        return table, completed | (keep & self._between(table["enrolled"], lo, hi)), completed

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
        keep = np.ones(len(table["platform"]), dtype=bool)
        if filters.platform is not None:
            keep &= table["platform"] == self._code("platform", filters.platform)
        for name, column in PEOPLE.items():
            value = getattr(filters, name)
            if value is not None:
                keep &= table[column] == self._code(column, value)
        return keep

    def _people_bits(self, filters: Filters) -> np.ndarray:
        keep = np.ones(len(self.personas["learner"]), dtype=bool)
        for name, column in PEOPLE.items():
            value = getattr(filters, name)
            if value is not None:
                keep &= self.personas[column] == self._code(column, value)
        return np.packbits(keep)

    def _union(self, bits: np.ndarray, lo: int, hi: int, platforms: Iterable[int]) -> np.ndarray:
        chosen = bits[lo : hi + 1][:, list(platforms)]
        if chosen.size == 0:
            return np.zeros(bits.shape[-1], dtype=np.uint8)
        return np.bitwise_or.reduce(chosen.reshape(-1, bits.shape[-1]), axis=0)

    def _unpack(self, packed: np.ndarray) -> np.ndarray:
        return np.unpackbits(packed, count=len(self.personas["learner"])).astype(bool)

    def _distinct(self, packed: np.ndarray) -> int:
        """Distinct learners among the personas in ``packed``."""
        return int(self._distinct_each(packed[np.newaxis])[0])

    def _distinct_each(self, packed: np.ndarray) -> np.ndarray:
        """Distinct learners in each row of ``packed`` (one persona bitset per row)."""
        counts = _popcount(packed & ~self.movers)
        moving = packed & self.movers
        for row in np.flatnonzero(moving.any(axis=-1)):
            counts[row] += len(np.unique(self.personas["learner"][self._unpack(moving[row])]))
        return counts

    def _distinct_by(self, packed: np.ndarray, persona_group: np.ndarray, groups: int) -> np.ndarray:
        """Distinct learners among the personas in ``packed``, per group (a group code of -1 is dropped)."""
        chosen = self._unpack(packed) & (persona_group >= 0)
        moving = self._unpack(self.movers)
        counts = np.bincount(persona_group[chosen & ~moving], minlength=groups)[:groups]
        if (chosen & moving).any():
            pairs = persona_group[chosen & moving].astype(np.int64) * len(self.personas["learner"])
            pairs = np.unique(pairs + self.personas["learner"][chosen & moving])
            counts = counts + np.bincount(pairs // len(self.personas["learner"]), minlength=groups)[:groups]
        return counts.astype(np.int64)

    @staticmethod
    def _sum_by(group: np.ndarray, weights: np.ndarray, keep: np.ndarray, groups: int) -> np.ndarray:
        keep = keep & (group >= 0)
        return np.bincount(group[keep], weights=weights[keep], minlength=groups)[:groups].astype(np.int64)

    def _grouping(self, dimension: str | None, table: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(group code per row of ``table``, group labels) for a breakdown; code -1 belongs to no group."""
        if dimension is None:
            return np.zeros(len(table[PEOPLE["entity"]]), np.int64), np.array([None], dtype=object)
        if dimension == "location":
            return self.headquarters[table["duty_station_code"]], np.array(["Field", "Headquarters"], dtype=object)
        return table[PEOPLE[dimension]], self.labels[PEOPLE[dimension]]


class TooManyValues(Exception):
    """A column has more distinct values than a persona number can hold; SQL answers instead."""


#: Bits of a persona number per people column (the learner takes the rest of 63).
_PERSONA_BITS = {"entity_code": 12, "duty_station_code": 14, "staff_category": 8, "gender": 8}
_LEARNER_LIMIT = 1 << (63 - sum(_PERSONA_BITS.values()))


def build_index(conn: Connection) -> ActivityIndex | None:
    """Read ``learning_activity`` once, in chunks, into an ``ActivityIndex``.

    None when the table is empty or a people column has more values than a persona number holds.
    """
    reader = _Reader()
    try:
        reader.read(conn)
    except TooManyValues:
        return None
    if not reader.events:
        return None
    events, table = reader.events_and_counts()
    first, last = int(table["enrolled"].min()), int(max(table["enrolled"].max(), table["completed"].max()))
    shape = (last - first + 1, len(reader.vocab["platform"].codes), len(reader.vocab["persona"].codes))
    bits = {name: np.zeros(shape, dtype=bool) for name in ("active", "enrolling", "completing")}
    _set_bits(bits, events, first, None)
    return reader.assemble(conn, first, bits, table)


def update_index(conn: Connection, old: ActivityIndex, months: set[int]) -> ActivityIndex | None:
    """``old`` with the given months (numbers: year * 12 + month - 1) read again from the table.

    What a batch changes is confined to the months of the rows it added or replaced, so reading
    those months again gives the same summaries as a full build, at a fraction of its cost.
    """
    reader = _Reader(old)
    try:
        reader.read(conn, months)
    except TooManyValues:
        return None
    events, fresh = reader.events_and_counts()
    kept = pd.DataFrame(old.by_month).astype({c: np.int64 for c in old.by_month})
    for column in ("enrolled", "completed"):
        kept[column] = np.where(kept[column] >= 0, kept[column] + old.first_month, -1)
    touched = np.array(sorted(months), dtype=np.int64)
    kept = kept[~(np.isin(kept["enrolled"], touched) | np.isin(kept["completed"], touched))]
    table = pd.concat([kept, fresh], ignore_index=True)
    if table.empty:
        return None
    first = int(min(table["enrolled"].min(), old.first_month))
    last = int(max(table["enrolled"].max(), table["completed"].max(), old.first_month + old.months - 1))
    shape = (last - first + 1, len(reader.vocab["platform"].codes), len(reader.vocab["persona"].codes))
    bits = {}
    for name in ("active", "enrolling", "completing"):
        before = np.unpackbits(getattr(old, name), axis=-1, count=len(old.personas["learner"])).astype(bool)
        bits[name] = np.zeros(shape, dtype=bool)
        offset = old.first_month - first
        bits[name][offset : offset + old.months, : before.shape[1], : before.shape[2]] = before
        bits[name][[m - first for m in months if first <= m <= last]] = False
    _set_bits(bits, events, first, months)
    return reader.assemble(conn, first, bits, table)


def touched_months(conn: Connection, batches: list[int]) -> set[int]:
    """The months (numbers) of the rows these batches added or replaced: what they can have changed."""
    from data_access.queries_uptake import month_of  # queries_uptake imports this module

    a, history = LearningActivity, HISTORY_TABLES["learning_activity"].c
    months: set[int] = set()
    for dates, batch in (((a.enrolled_on, a.completed_on), a.batch_id),
                         ((history.enrolled_on, history.completed_on), history.replaced_by_batch)):  # fmt: skip
        for column in dates:
            query = select(month_of(conn, column)).where(batch.in_(batches), column.is_not(None)).distinct()
            months |= {_month_number(label) for label in conn.execute(query).scalars()}
    return months


def _set_bits(bits: dict[str, np.ndarray], events: dict[str, np.ndarray], first: int, only: set[int] | None) -> None:
    """Mark each event's persona in its months (all months, or ``only`` those)."""
    persona, platform = events["persona"], events["platform"]
    enrolled, completed = events["enrolled"], events["completed"]
    allowed = np.ones(len(persona), dtype=bool) if only is None else np.isin(enrolled, list(only))
    bits["enrolling"][enrolled[allowed] - first, platform[allowed], persona[allowed]] = True
    bits["active"][enrolled[allowed] - first, platform[allowed], persona[allowed]] = True
    dated = completed >= 0
    if only is not None:
        dated &= np.isin(completed, list(only))
    bits["active"][completed[dated] - first, platform[dated], persona[dated]] = True
    done = dated & events["done"]
    bits["completing"][completed[done] - first, platform[done], persona[done]] = True


class _Reader:
    """Streams activity rows into codes (continuing ``old``'s codes when given) and per-chunk counts."""

    NAMES = ("learner", *PEOPLE.values(), "platform", "enrolled", "completed", "done", "need")

    def __init__(self, old: ActivityIndex | None = None) -> None:
        self.vocab = {name: _Vocabulary() for name in ["learner", *PEOPLE.values(), "platform", "need", "persona"]}
        if old is not None:
            for column, values in old.labels.items():
                self.vocab[column].codes = {value: code for code, value in enumerate(values.tolist())}
            keys = old.personas["learner"].astype(np.int64)
            for column, width in _PERSONA_BITS.items():
                keys = (keys << width) | old.personas[column]
            self.vocab["persona"].codes = {key: code for code, key in enumerate(keys.tolist())}
        self.months: dict[str, int] = {}  # YYYY-MM -> month number
        self.events: list[dict[str, np.ndarray]] = []
        self.counts: list[pd.DataFrame] = []

    def read(self, conn: Connection, months: set[int] | None = None) -> None:
        from data_access.queries_uptake import month_of  # queries_uptake imports this module

        a = LearningActivity
        query = select(
            a.learner_id, *(getattr(a, c) for c in PEOPLE.values()), a.platform, month_of(conn, a.enrolled_on),
            month_of(conn, a.completed_on), case((a.status == "completed", 1), else_=0), a.learning_need,
        )  # fmt: skip
        if months is not None:
            if not months:
                return
            query = query.where(or_(_in_months(a.enrolled_on, months), _in_months(a.completed_on, months)))
        for chunk in conn.execution_options(yield_per=CHUNK_ROWS).execute(query).partitions():
            self._add(dict(zip(self.NAMES, (np.array(v, dtype=object) for v in zip(*chunk, strict=True)), strict=True)))

    def _add(self, raw: dict[str, np.ndarray]) -> None:
        codes = {name: self.vocab[name].encode(raw[name]) for name in ["learner", *PEOPLE.values(), "platform", "need"]}
        for column in ("enrolled", "completed"):
            local, uniques = pd.factorize(raw[column])  # no date: -1
            numbers = np.array([self.months.setdefault(u, _month_number(u)) for u in uniques] + [-1], np.int64)
            codes[column] = numbers[local]
        codes["done"] = raw["done"].astype(bool)
        persona = self.vocab["persona"].encode(_persona_numbers(codes, self.vocab))
        self.events.append(
            {
                "persona": persona.astype(np.int32),
                "platform": codes["platform"].astype(np.int16),
                "enrolled": codes["enrolled"].astype(np.int32),
                "completed": codes["completed"].astype(np.int32),
                "done": codes["done"],
            }  # fmt: skip
        )
        keys = {k: codes[k].astype(np.int32) for k in _COUNT_KEYS}
        frame = pd.DataFrame(keys | {"activities": 1, "completions": codes["done"].astype(np.int64)})
        self.counts.append(frame.groupby(_COUNT_KEYS, sort=False)[["activities", "completions"]].sum())
        if sum(len(c) for c in self.counts) > COMPACT_ROWS:  # bounds the build's memory
            self.counts = [pd.concat(self.counts).groupby(level=_COUNT_KEYS, sort=False).sum()]

    def events_and_counts(self) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
        """All events, and the count table (absolute month numbers; -1: no completion date)."""
        fields = ("persona", "platform", "enrolled", "completed", "done")
        events = {k: np.concatenate([e[k] for e in self.events] or [np.zeros(0, np.int64)]) for k in fields}
        events["done"] = events["done"].astype(bool)
        if not self.counts:
            return events, pd.DataFrame(columns=[*_COUNT_KEYS, "activities", "completions"], dtype=np.int64)
        table = pd.concat(self.counts).groupby(level=_COUNT_KEYS, sort=False).sum().reset_index()
        table["completions"] = table["completions"].where(table["completed"] >= 0, 0)
        return events, table.astype(np.int64)

    def assemble(self, conn: Connection, first: int, bits: dict[str, np.ndarray], table: pd.DataFrame) -> ActivityIndex:
        table = table.copy()
        for column in ("enrolled", "completed"):
            table[column] = np.where(table[column] >= 0, table[column] - first, -1)
        lag = (table["completed"] - table["enrolled"])[table["completed"] >= 0]
        totals = table.groupby(_TOTAL_KEYS, sort=False)[["activities", "completions"]].sum().reset_index()
        done = table[table["completions"] > 0].groupby([*_TOTAL_KEYS, "completed"], sort=False)["completions"].sum()

        keys = self.vocab["persona"].labels().astype(np.int64)
        personas: dict[str, np.ndarray] = {}
        for column in reversed(_PERSONA_BITS):
            personas[column] = keys & ((1 << _PERSONA_BITS[column]) - 1)
            keys = keys >> _PERSONA_BITS[column]
        personas["learner"] = keys
        per_learner = np.bincount(personas["learner"])
        stations = self.vocab["duty_station_code"].labels()
        flags = dict(conn.execute(select(DutyStation.duty_station_code, DutyStation.is_headquarters)).all())
        return ActivityIndex(
            first_month=first,
            labels={c: self.vocab[c].labels() for c in ["learner", *PEOPLE.values(), "platform", "need"]},
            personas=personas,
            movers=np.packbits(per_learner[personas["learner"]] > 1),
            active=np.packbits(bits["active"], axis=-1),
            enrolling=np.packbits(bits["enrolling"], axis=-1),
            completing=np.packbits(bits["completing"], axis=-1),
            by_month=_columns(table.sort_values("enrolled", kind="stable")),
            totals=_columns(totals),
            completed=_columns(done.reset_index()),
            lags=(int(lag.min()), int(lag.max())) if len(lag) else (0, 0),
            headquarters=np.array([int(flags[s] is True) if s in flags else -1 for s in stations] + [-1], np.int64),
        )


def _in_months(column: Any, months: set[int]) -> Any:
    """``column`` falls in one of ``months`` (consecutive months become one range)."""
    ranges: list[list[int]] = []
    for month in sorted(months):
        if ranges and ranges[-1][1] == month - 1:
            ranges[-1][1] = month
        else:
            ranges.append([month, month])
    return or_(*(and_(column >= _month_start(lo), column < _month_start(hi + 1)) for lo, hi in ranges))


def _month_start(number: int) -> dt.date:
    return dt.date(number // 12, number % 12 + 1, 1)


def _frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame built the way the SQL queries build theirs (from rows of Python values), so both agree
    to the dtype, empty frames included."""
    rows = list(zip(*(values.tolist() for values in columns.values()), strict=True))
    return pd.DataFrame(rows, columns=list(columns))


def _columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """A count table as compact arrays (codes and months fit int32, counts int64)."""
    return {column: table[column].to_numpy(np.int64 if column in ("activities", "completions") else np.int32)
            for column in table.columns}  # fmt: skip


def _persona_numbers(codes: dict[str, np.ndarray], vocab: dict[str, _Vocabulary]) -> np.ndarray:
    """One int64 per row from its learner and people codes (raises ``TooManyValues`` if they do not fit)."""
    if len(vocab["learner"].codes) >= _LEARNER_LIMIT:
        raise TooManyValues("learner")
    number = codes["learner"].astype(np.int64)
    for column, width in _PERSONA_BITS.items():
        if len(vocab[column].codes) >= 1 << width:
            raise TooManyValues(column)
        number = (number << width) | codes[column]
    return number


BUILD_THREAD = "activity-index"


def wait_for_builds(timeout: float = 60.0) -> None:
    """Wait for this process's background builds to end (before dropping a database, say)."""
    for thread in threading.enumerate():
        if thread.name == BUILD_THREAD:
            thread.join(timeout)


#: The upload kinds the summaries are built from.
INDEX_READS = ("learning_activity", "duty_stations")


class IndexShelf:
    """One process's summaries of the latest data versions, built once per version.

    ``get`` never waits: when the version asked for is not here yet, a background thread fetches it
    from the shared cache (Redis), or builds it, and ``get`` returns None, so that request (and any
    until the thread ends) uses SQL. A build is put in the shared cache, so with several workers one
    builds and the others read. A build whose data changed while it read is thrown away, never filed
    under the wrong version.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.built: MemoryStore[ActivityIndex | bool] = MemoryStore(capacity=2)  # False: nothing to index
        self.building: set[str] = set()
        self.lock = threading.Lock()
        self.latest: tuple[str, ActivityIndex] | None = None  # the newest built, to update from

    def get(self, version: str, store: Store | None = None) -> ActivityIndex | None:
        found = self.built.get(version)
        if found is None:
            with self.lock:
                if version in self.building:
                    return None
                self.building.add(version)
            threading.Thread(target=self.build, args=(version, store), name=BUILD_THREAD, daemon=True).start()
        return found or None

    def build(self, version: str, store: Store | None = None) -> ActivityIndex | None:
        """The summaries for ``version``, now: from this process, the shared cache, or built (and shared)."""
        found = self.built.get(version)
        if found is not None:
            return found or None
        shared = store if getattr(store, "shared", False) else None
        key = cache_key("activity-index", version)
        try:
            value = shared.get(key) if shared else None
            if value is not None:
                index: ActivityIndex | None = ActivityIndex.from_bytes(value)
            else:
                with self.engine.connect() as conn:
                    index = self._update(conn, version) or build_index(conn)
                if data_versions(self.engine).of(INDEX_READS) != version:
                    return index
                if shared and index is not None:
                    shared.set(key, index.to_bytes())
            if index is not None:
                self.latest = (version, index)
            self.built.set(version, index or False)
            return index
        except Exception:  # only slower pages: the queries fall back to SQL
            log.exception("building the activity summaries failed")
            return None
        finally:
            with self.lock:
                self.building.discard(version)

    def _update(self, conn: Connection, version: str) -> ActivityIndex | None:
        """The latest summaries brought to ``version`` by reading again only the months that the
        batches loaded since touched; None when that cannot be done (a rollback since: build anew)."""
        if self.latest is None:
            return None
        before, index = self.latest
        old, new = _kind_version(before, "learning_activity"), _kind_version(version, "learning_activity")
        if old[1] != new[1] or new[0] < old[0]:
            return None
        query = select(UploadBatch.id).where(
            UploadBatch.kind == "learning_activity", UploadBatch.id > old[0], UploadBatch.id <= new[0]
        )
        batches = list(conn.execute(query).scalars())
        return update_index(conn, index, touched_months(conn, batches))


def _kind_version(version: str, kind: str) -> tuple[int, str]:
    """(newest batch id, latest rollback) of ``kind`` in a version string from ``DataVersions.of``."""
    parts = dict(part.split("=", 1) for part in version.split("|") if "=" in part)
    newest, _, rolled = parts.get(kind, "0:-").partition(":")
    return (int(newest) if newest.isdigit() else 0), rolled
