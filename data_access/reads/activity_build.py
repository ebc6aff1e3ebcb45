"""Building the activity summaries (``activity_index``) from the table, and keeping them current.

A first build streams the whole table once; after a load, ``update_index`` reads again only the
months of the rows the new batches added or replaced, which gives the same summaries as a full build.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, and_, case, func, or_, select

from data_access.engine import arrow_batches
from data_access.reads.activity_index import (
    COUNT_KEYS,
    TOTAL_KEYS,
    ActivityIndex,
    Vocabulary,
    month_number,
    month_start,
)
from data_access.reads.filters import PEOPLE_COLUMNS
from data_access.reads.uptake import month_of
from data_access.schema import HISTORY_TABLES, DutyStation, LearningActivity, UploadBatchMonth

#: Rows read per round trip while building (bounds the build's memory).
CHUNK_ROWS = 100_000
#: Per-chunk counts are merged whenever they hold more rows than this.
COMPACT_ROWS = 2_000_000
_SUMS = ["activities", "completions"]


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
    bits = reader.blank_bits(first, last)
    _set_bits(bits, events, first, None)
    return reader.assemble(conn, first, bits, table)


def update_index(conn: Connection, old: ActivityIndex, months: set[int]) -> ActivityIndex | None:
    """``old`` with the given months (numbers: year * 12 + month - 1) read again from the table.

    What a batch changes is confined to the months of the rows it added or replaced, so reading
    those months again gives the same summaries as a full build, at a fraction of its cost.
    """
    touched = np.array(sorted(months), dtype=np.int64)
    before = dict(old.by_month)  # codes stay int32; months become absolute
    before["enrolled"] = before["enrolled"].astype(np.int64) + old.first_month
    before["completed"] = np.where(before["completed"] >= 0, before["completed"].astype(np.int64) + old.first_month, -1)
    completed_then = np.isin(before["completed"], touched)
    # The rows to read again: those enrolled in a touched month, and those completed in one, which
    # are new (so enrolled in a touched month too) or in the old summaries, which say when they enrolled.
    enrolled = months | set(np.unique(before["enrolled"][completed_then]).tolist())
    reader = _Reader(old)
    try:
        reader.read(conn, months, enrolled)
    except TooManyValues:
        return None
    events, fresh = reader.events_and_counts()
    gone = np.isin(before["enrolled"], touched) | completed_then
    removed = pd.DataFrame({column: before[column][gone] for column in [*TOTAL_KEYS, *_SUMS]})
    fresh = fresh.sort_values("enrolled", kind="stable").astype({c: np.int32 for c in TOTAL_KEYS})
    table = {c: np.concatenate([values[~gone], fresh[c].to_numpy()]) for c, values in before.items()}
    if not len(table["enrolled"]):
        return None
    # Activities and completions add up: the totals lose the rows read again, then gain them as they are now.
    removed[_SUMS] = -removed[_SUMS]
    totals = _totals(pd.concat([pd.DataFrame(old.totals), removed, fresh[[*TOTAL_KEYS, *_SUMS]]]))
    totals = totals[totals["activities"] > 0]
    # Completions per completion month: a month no batch touched keeps its own (no row of it changed).
    done = pd.DataFrame(old.completed).astype(np.int64)
    done["completed"] += old.first_month
    done = pd.concat([done[~np.isin(done["completed"], touched)],
                      _completions_by_month(fresh[np.isin(fresh["completed"], touched)])])  # fmt: skip
    first = int(min(table["enrolled"].min(), old.first_month))
    last = int(max(table["enrolled"].max(), table["completed"].max(), old.first_month + old.months - 1))
    bits = reader.blank_bits(first, last)
    for name in ("active", "enrolling", "completing"):
        before_bits = np.unpackbits(getattr(old, name), axis=-1, count=len(old.personas["learner"])).astype(bool)
        offset = old.first_month - first
        bits[name][offset : offset + old.months, : before_bits.shape[1], : before_bits.shape[2]] = before_bits
        bits[name][[m - first for m in months if first <= m <= last]] = False
    _set_bits(bits, events, first, months)
    return reader.assemble(conn, first, bits, table, totals, done)


def touched_months(conn: Connection, batches: list[int]) -> set[int]:
    """The months (numbers) of the rows these batches added or replaced: what they can have changed."""
    a, history = LearningActivity, HISTORY_TABLES["learning_activity"].c
    months: set[int] = set()
    recorded = select(UploadBatchMonth.batch_id, UploadBatchMonth.month).where(UploadBatchMonth.batch_id.in_(batches))
    unrecorded = set(batches)
    for batch_id, month in conn.execute(recorded):
        months.add(month.year * 12 + month.month - 1)
        unrecorded.discard(batch_id)
    # The rows they replaced (history is indexed by the replacing batch); for a batch loaded before
    # its months were recorded (migration 0007), its own rows too: a scan, the table has no batch_id index.
    sources = [(history.enrolled_on, history.completed_on, history.replaced_by_batch, batches)]
    if unrecorded:
        sources.append((a.enrolled_on, a.completed_on, a.batch_id, sorted(unrecorded)))
    for enrolled, completed, batch, ids in sources:
        query = select(month_of(conn, enrolled), month_of(conn, completed)).where(batch.in_(ids)).distinct()
        for labels in conn.execute(query):
            months |= {month_number(label) for label in labels if label is not None}
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

    NAMES = ("learner", *PEOPLE_COLUMNS.values(), "platform", "enrolled", "completed", "done", "need")

    def __init__(self, old: ActivityIndex | None = None) -> None:
        self.vocab = {
            name: Vocabulary() for name in ["learner", *PEOPLE_COLUMNS.values(), "platform", "need", "persona"]
        }
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

    def blank_bits(self, first: int, last: int) -> dict[str, np.ndarray]:
        """Empty (month, platform, persona) bit arrays for the months ``first``..``last`` and the codes so far."""
        shape = (last - first + 1, len(self.vocab["platform"].codes), len(self.vocab["persona"].codes))
        return {name: np.zeros(shape, dtype=bool) for name in ("active", "enrolling", "completing")}

    def read(self, conn: Connection, months: set[int] | None = None, enrolled: set[int] | None = None) -> None:
        """Every row, or those enrolled or completed in ``months``; ``enrolled``: the months those
        rows were enrolled in, which lets the key, starting with enrolled_on, find them (no scan)."""
        a = LearningActivity
        query = select(
            a.learner_id, *(getattr(a, c) for c in PEOPLE_COLUMNS.values()), a.platform, month_of(conn, a.enrolled_on),
            func.coalesce(month_of(conn, a.completed_on), ""), case((a.status == "completed", 1), else_=0),
            func.coalesce(a.learning_need, ""),
        )  # fmt: skip
        if months is not None:
            if not months:
                return
            query = query.where(or_(_in_months(a.enrolled_on, months), _in_months(a.completed_on, months)))
            if enrolled is not None:
                query = query.where(_in_months(a.enrolled_on, enrolled))
        for batch in arrow_batches(conn, query, CHUNK_ROWS):
            self._add(dict(zip(self.NAMES, batch.columns, strict=True)))

    def _add(self, raw: dict[str, pa.Array]) -> None:
        raw["need"] = pc.if_else(pc.equal(raw["need"], ""), pa.scalar(None, pa.string()), raw["need"])
        names = ["learner", *PEOPLE_COLUMNS.values(), "platform", "need"]
        codes = {name: self.vocab[name].encode(raw[name]) for name in names}
        for column in ("enrolled", "completed"):
            encoded = pc.dictionary_encode(raw[column])
            numbers = np.array([self.months.setdefault(u, month_number(u) if u else -1)
                                for u in encoded.dictionary.to_pylist()], np.int64)  # fmt: skip
            codes[column] = numbers[encoded.indices.to_numpy()]
        codes["done"] = raw["done"].to_numpy().astype(bool)
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
        keys = {k: codes[k].astype(np.int32) for k in COUNT_KEYS}
        frame = pd.DataFrame(keys | {"activities": 1, "completions": codes["done"].astype(np.int64)})
        self.counts.append(frame.groupby(COUNT_KEYS, sort=False)[["activities", "completions"]].sum())
        if sum(len(c) for c in self.counts) > COMPACT_ROWS:  # bounds the build's memory
            self.counts = [pd.concat(self.counts).groupby(level=COUNT_KEYS, sort=False).sum()]

    def events_and_counts(self) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
        """All events, and the count table (absolute month numbers; -1: no completion date)."""
        fields = ("persona", "platform", "enrolled", "completed", "done")
        events = {k: np.concatenate([e[k] for e in self.events] or [np.zeros(0, np.int64)]) for k in fields}
        events["done"] = events["done"].astype(bool)
        if not self.counts:
            return events, pd.DataFrame(columns=[*COUNT_KEYS, "activities", "completions"], dtype=np.int64)
        table = pd.concat(self.counts).groupby(level=COUNT_KEYS, sort=False).sum().reset_index()
        table["completions"] = table["completions"].where(table["completed"] >= 0, 0)
        return events, table.astype(np.int64)

    def assemble(
        self,
        conn: Connection,
        first: int,
        bits: dict[str, np.ndarray],
        table: pd.DataFrame | dict[str, np.ndarray],
        totals: pd.DataFrame | None = None,
        done: pd.DataFrame | None = None,
    ) -> ActivityIndex:
        """The summaries from the count table (absolute months); ``totals`` and ``done`` when known."""
        if totals is None or done is None:
            frame = pd.DataFrame(table)
            totals, done = _totals(frame), _completions_by_month(frame)
        by_month = {column: np.asarray(values) for column, values in table.items()}
        for column in ("enrolled", "completed"):
            by_month[column] = np.where(by_month[column] >= 0, by_month[column] - first, -1)
        dated = by_month["completed"] >= 0
        lag = by_month["completed"][dated] - by_month["enrolled"][dated]
        if np.any(by_month["enrolled"][1:] < by_month["enrolled"][:-1]):  # a new month at the end keeps the order
            order = np.argsort(by_month["enrolled"], kind="stable")
            by_month = {column: values[order] for column, values in by_month.items()}
        done = done.assign(completed=done["completed"] - first)

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
            labels={c: self.vocab[c].labels() for c in ["learner", *PEOPLE_COLUMNS.values(), "platform", "need"]},
            personas=personas,
            movers=np.packbits(per_learner[personas["learner"]] > 1),
            active=np.packbits(bits["active"], axis=-1),
            enrolling=np.packbits(bits["enrolling"], axis=-1),
            completing=np.packbits(bits["completing"], axis=-1),
            by_month=_columns(by_month),
            totals=_columns(totals),
            completed=_columns(done),
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
    return or_(*(and_(column >= month_start(lo), column < month_start(hi + 1)) for lo, hi in ranges))


def _columns(table: pd.DataFrame | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A count table as compact arrays (codes and months fit int32, counts int64)."""
    return {column: np.asarray(values, np.int64 if column in _SUMS else np.int32) for column, values in table.items()}


def _totals(table: pd.DataFrame) -> pd.DataFrame:
    """Activities and completions per TOTAL_KEYS."""
    return table.groupby(TOTAL_KEYS, sort=False)[_SUMS].sum().reset_index()


def _completions_by_month(table: pd.DataFrame) -> pd.DataFrame:
    """Completions per TOTAL_KEYS and completion month."""
    done = table[table["completions"] > 0]
    return done.groupby([*TOTAL_KEYS, "completed"], sort=False)["completions"].sum().reset_index()


def _persona_numbers(codes: dict[str, np.ndarray], vocab: dict[str, Vocabulary]) -> np.ndarray:
    """One int64 per row from its learner and people codes (raises ``TooManyValues`` if they do not fit)."""
    if len(vocab["learner"].codes) >= _LEARNER_LIMIT:
        raise TooManyValues("learner")
    number = codes["learner"].astype(np.int64)
    for column, width in _PERSONA_BITS.items():
        if len(vocab[column].codes) >= 1 << width:
            raise TooManyValues(column)
        number = (number << width) | codes[column]
    return number
