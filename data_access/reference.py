"""Headcount, entities and duty stations held in memory per data version: the denominators and names
every uptake figure needs, answered from arrays instead of two or three queries per figure.

The tables are small (thousands of headcount rows), and a cold slice's figures each asked them again;
``reference_of`` reads them once per data version and process. The answers equal the SQL ones in
``queries_uptake`` (a test compares them over many slices, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from data_access.cache import MemoryStore, read_for_version
from data_access.filters import PEOPLE_COLUMNS, Filters
from data_access.frames import frame_from
from data_access.queries_programmes import LOCALLY_RECRUITED, Participation
from data_access.queries_uptake import duty_stations, entity_names, with_places
from data_access.schema import Headcount

#: The upload kinds the reference data is read from.
REFERENCE_READS = ("headcount", "entities", "duty_stations", "programme_participation")
#: The people filters, which are also the headcount's breakdowns (``Filters`` names).
PEOPLE = tuple(PEOPLE_COLUMNS)


#: Latest snapshots (and their rows) kept per people filter and period end.
SNAPSHOTS_KEPT = 64


@dataclass(frozen=True)
class Reference:
    """One data version's headcount rows (as arrays), entity names and duty stations."""

    as_of: np.ndarray  # datetime64[D] per headcount row
    #: Per breakdown (the people columns and ``location``): each row's code, and the value of each code.
    codes: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    headcount: np.ndarray
    entities: pd.DataFrame  # entity, name
    places: pd.DataFrame  # duty_station, name, headquarters, latitude, longitude
    participation: Participation

    @classmethod
    def read(cls, engine: Engine) -> Reference:
        h = Headcount
        with engine.connect() as conn:
            rows = pd.DataFrame(
                conn.execute(
                    select(h.as_of_date, h.entity_code, h.duty_station_code, h.staff_category, h.gender, h.headcount)
                ).all(),
                columns=["as_of", *PEOPLE, "headcount"],
            )
            entities, places = entity_names(conn), duty_stations(conn)
            participation = Participation.read(conn)
        headquarters = dict(zip(places["duty_station"], places["headquarters"], strict=True))
        # As the SQL joins duty_stations: a station it does not list has no location.
        rows["location"] = rows["duty_station"].map(
            lambda code: None if code not in headquarters else "Headquarters" if headquarters[code] else "Field"
        )
        codes, labels = {}, {}
        for column in (*PEOPLE, "location"):
            codes[column], labels[column] = pd.factorize(rows[column])
        return cls(
            as_of=pd.to_datetime(rows["as_of"]).to_numpy(dtype="datetime64[D]"),
            codes=codes,
            labels={column: np.asarray(values, dtype=object) for column, values in labels.items()},
            headcount=rows["headcount"].to_numpy(dtype=np.int64),
            entities=entities,
            places=places,
            participation=participation,
        )

    def _people(self, filters: Filters) -> np.ndarray:
        rows = np.ones(len(self.headcount), dtype=bool)
        for name in PEOPLE:
            value = getattr(filters, name)
            if value is not None:
                found = np.flatnonzero(self.labels[name] == value)
                rows &= self.codes[name] == (found[0] if len(found) else -2)
        return rows

    def latest_snapshot(self, filters: Filters) -> dt.date | None:
        """The latest headcount date on or before the period end (of the filtered people), or None."""
        return self._latest(filters)[0]

    def _snapshot(self, filters: Filters, as_of: dt.date | None) -> np.ndarray:
        """The rows of the filtered people in the snapshot of ``as_of`` (none when there is none)."""
        latest, rows = self._latest(filters)
        if as_of is None:
            return np.zeros(len(self.headcount), dtype=bool)
        if as_of == latest:
            return rows
        return self._people(filters) & (self.as_of == np.datetime64(as_of, "D"))

    def _latest(self, filters: Filters) -> tuple[dt.date | None, np.ndarray]:
        """``latest_snapshot`` and the filtered people's rows in it, kept for the next questions about the
        same people and period end (every figure of a page asks, and they are read-only)."""
        key = (*(getattr(filters, name) for name in PEOPLE), filters.date_to)
        found = self._snapshots.get(key)
        if found is None:
            people = self._people(filters)
            dates = self.as_of[people]
            if filters.date_to:
                dates = dates[dates <= np.datetime64(filters.date_to, "D")]
            latest = None if not len(dates) else dates.max().astype(dt.date)
            rows = people & (self.as_of == np.datetime64(latest, "D")) if latest else np.zeros_like(people)
            rows.flags.writeable = False
            if len(self._snapshots) >= SNAPSHOTS_KEPT:
                self._snapshots.clear()
            found = self._snapshots[key] = (latest, rows)
        return found

    @functools.cached_property
    def _snapshots(self) -> dict[tuple[Any, ...], tuple[dt.date | None, np.ndarray]]:
        return {}

    def with_places(self, columns: dict[str, np.ndarray]) -> pd.DataFrame:
        """``columns`` (a ``duty_station`` column first) as a table with each station's name, headquarters
        flag and position: ``with_places(self.places, table)``, without a pandas merge when all are known."""
        rows = [self._place_rows.get(code, -1) for code in columns["duty_station"].tolist()]
        if -1 in rows:  # a station duty_stations does not list: the merge says what it lacks
            return with_places(self.places, pd.DataFrame(columns))
        taken = np.array(rows, dtype=np.int64)
        place = self._place_arrays
        table = {column: place[column].take(taken) for column in ("duty_station", "name", "headquarters")}
        table |= {column: values for column, values in columns.items() if column != "duty_station"}
        table |= {column: place[column].take(taken) for column in ("latitude", "longitude")}
        return frame_from(table)

    @functools.cached_property
    def _place_rows(self) -> dict[str, int]:
        return {code: row for row, code in enumerate(self.places["duty_station"].tolist())}

    @functools.cached_property
    def _place_arrays(self) -> dict[str, Any]:
        """The places' columns as arrays: taking rows from each is cheaper than from the table."""
        return {column: self.places[column].array for column in self.places.columns}

    def headcount_total(self, filters: Filters) -> int:
        return int(self.headcount[self._snapshot(filters, self.latest_snapshot(filters))].sum())

    def staff_figures(self, filters: Filters) -> dict[str, object]:
        """Headcount, and entities and duty stations with staff, in the latest snapshot (``kpis.headcount_figures``)."""
        as_of = self.latest_snapshot(filters)
        if as_of is None:
            return {"as_of_date": None, "headcount": 0, "entities": 0, "duty_stations": 0}
        rows = self._snapshot(filters, as_of)
        staffed = rows & (self.headcount > 0)
        return {
            "as_of_date": as_of.isoformat(),
            "headcount": int(self.headcount[rows].sum()),
            "entities": len(np.unique(self.codes["entity"][staffed])),
            "duty_stations": len(np.unique(self.codes["duty_station"][staffed])),
        }

    def workforce(self, filters: Filters) -> tuple[dt.date | None, dict[str, int]]:
        """The latest snapshot on or before the period end (of the filtered people) and its staff: all,
        women, in the field and in ``local`` categories (``queries_programmes.workforce_baseline``)."""
        as_of = self.latest_snapshot(filters)
        rows = self._snapshot(filters, as_of)
        staff = self.headcount[rows]

        def among(column: str, *values: str) -> int:
            codes = np.flatnonzero(np.isin(self.labels[column], values))
            return int(staff[np.isin(self.codes[column][rows], codes)].sum())

        return as_of, {"headcount": int(staff.sum()), "female_staff": among("gender", "female"),
                       "field_staff": among("location", "Field"),
                       "locally_recruited_staff": among("staff_category", *LOCALLY_RECRUITED)}  # fmt: skip

    def headcount_by(self, filters: Filters, dimension: str) -> pd.DataFrame:
        """Staff in the latest snapshot on or before the period end, per ``dimension`` value."""
        keys, staff = self.headcount_columns(filters, dimension)
        if dimension == "platform":
            return pd.DataFrame({"headcount": staff})
        return pd.DataFrame({dimension: np.array(keys, dtype=object), "headcount": np.array(staff, dtype=np.int64)})

    def headcount_columns(self, filters: Filters, dimension: str) -> tuple[list[object], list[int]]:
        """``headcount_by`` as (values, staff) lists, before they are made a table (no values for platform)."""
        if dimension == "platform":
            return [], [self.headcount_total(filters)]
        rows = self._snapshot(filters, self.latest_snapshot(filters))
        codes = self.codes[dimension][rows]
        known = codes >= 0
        codes, staff = codes[known], self.headcount[rows][known]
        size = len(self.labels[dimension])
        present = np.bincount(codes, minlength=size) > 0
        sums = np.bincount(codes, weights=staff, minlength=size)
        return self.labels[dimension][present].tolist(), sums[present].astype(np.int64).tolist()


def reference_of(engine: Engine, version: str) -> Reference | None:
    """The reference data of ``version`` (``DataVersions.of(REFERENCE_READS)``), read once per process.

    None when the data changed from ``version`` while it was read (``read_for_version``).
    """
    return read_for_version(_held(engine), version, engine, REFERENCE_READS, lambda: Reference.read(engine))


@functools.cache
def _held(engine: Engine) -> MemoryStore[Reference]:
    return MemoryStore(capacity=2)
