"""Learning needs analysis: respondents per need, area, priority, entity and cycle, and the needs-vs-uptake gap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, select

from data_access.contract import LEARNING_NEEDS, OTHER_AREA
from data_access.reads.filters import Filters, apply_people_filters, in_period
from data_access.schema import Entity, LearningActivity, LearningNeed

L = LearningNeed


def area_of(need: str) -> str:
    """The Learning Strategy area of a need; a need outside the taxonomy is "Other" until mapped."""
    return LEARNING_NEEDS.get(need, OTHER_AREA)


def latest_cycle(conn: Connection) -> str | None:
    return conn.execute(select(func.max(L.cycle))).scalar()


def cycle_in_view(conn: Connection, filters: Filters) -> str | None:
    """The LNA cycle a figure shows: the filter's, else the latest (respondents never add across cycles)."""
    return filters.cycle or latest_cycle(conn)


def _scope(query: Any, filters: Filters, *, need: bool = True, cycle: str | None = None) -> Any:
    query = apply_people_filters(query, L, filters)
    if filters.report_type:
        query = query.where(L.report_type == filters.report_type)
    if need and filters.learning_need:
        query = query.where(L.learning_need == filters.learning_need)
    if cycle is not None:
        query = query.where(L.cycle == cycle)
    return query


def _sums(
    conn: Connection,
    filters: Filters,
    keys: list[str],
    *,
    need: bool = True,
    cycle: str | None = None,
) -> list[tuple]:
    """(value of each of ``keys``..., respondents) per group of the slice's LNA rows, in no particular
    order. The figures below total these in plain Python (a few hundred rows)."""
    columns = [getattr(L, key) for key in keys]
    query = _scope(select(*columns, func.sum(L.respondents)), filters, need=need, cycle=cycle).group_by(*columns)
    return [tuple(row) for row in conn.execute(query).all()]


def _shares(rows: list[tuple], group: int) -> list[float]:
    """Each row's respondents (its last value) as a share of its group's (rows with the same value at
    ``group``); NaN where the group has none."""
    totals: dict[Any, int] = {}
    for row in rows:
        totals[row[group]] = totals.get(row[group], 0) + row[-1]
    return [row[-1] / totals[row[group]] if totals[row[group]] else np.nan for row in rows]


def _table(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """Columns of plain values as a table: labels as text, respondents as int64, shares as float64."""
    kinds = {"respondents": np.int64, "need_share": np.float64, "share_of_area": np.float64}
    if not columns["respondents"]:  # as pandas makes an empty table from no rows: every column of objects
        return pd.DataFrame({name: np.array([], dtype=object) for name in columns})
    return pd.DataFrame(
        {
            name: np.array(values, dtype=kinds[name]) if name in kinds else pd.array(values, dtype="str")
            for name, values in columns.items()
        }  # fmt: skip
    )


def needs_by_need(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Per need: respondents, need_share (of all respondents in the slice), high-priority respondents and share."""
    return pd.DataFrame(_need_columns(conn, filters))


def _need_columns(conn: Connection, filters: Filters) -> dict[str, Any]:
    """``needs_by_need`` as columns (arrays; the shares pd.NA when the slice has no respondents)."""
    cycle = cycle_in_view(conn, filters)
    rows = _sums(conn, filters, ["learning_need", "priority"], need=False, cycle=cycle)
    total = sum(respondents for _, _, respondents in rows)
    per_need: dict[str, list[int]] = {}
    for need, priority, respondents in rows:
        if filters.learning_need and need != filters.learning_need:
            continue
        cell = per_need.setdefault(need, [0, 0])
        cell[0] += respondents
        cell[1] += respondents if priority == "high" else 0
    needs = sorted(per_need)
    counts = np.array([per_need[need] for need in needs], dtype=np.int64).reshape(len(needs), 2)
    order = np.argsort(-counts[:, 0], kind="stable")
    respondents, high = counts[order, 0], counts[order, 1]
    named = [needs[i] for i in order]
    return {
        "cycle": np.array([cycle] * len(named), dtype=object),
        "area": np.array([area_of(need) for need in named], dtype=object),
        "learning_need": np.array(named, dtype=object),
        "respondents": respondents,
        "high_priority_respondents": high,
        "need_share": respondents / total if total else pd.NA,
        "high_priority_share": np.divide(high, respondents, out=np.full(len(named), np.nan), where=respondents > 0),
    }


PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def needs_by_priority(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Per area and priority: respondents and the share of the area's respondents."""
    cycle = cycle_in_view(conn, filters)
    per_cell: dict[tuple[str, str], int] = {}
    for need, priority, respondents in _sums(conn, filters, ["learning_need", "priority"], cycle=cycle):
        key = (area_of(need), priority)
        per_cell[key] = per_cell.get(key, 0) + respondents
    rows = sorted(
        ((area, priority, respondents) for (area, priority), respondents in per_cell.items()),
        key=lambda row: (row[0], PRIORITY_ORDER.get(row[1], len(PRIORITY_ORDER)), row[1]),
    )
    return _table(
        {
            "cycle": [cycle] * len(rows),
            "area": [area for area, _, _ in rows],
            "priority": [priority for _, priority, _ in rows],
            "respondents": [respondents for *_, respondents in rows],
            "share_of_area": _shares(rows, 0),
        }
    )


def needs_by_entity(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Per entity and need: respondents and the need's share of the entity's respondents."""
    cycle = cycle_in_view(conn, filters)
    rows = sorted(_sums(conn, filters, ["entity_code", "learning_need"], cycle=cycle))
    names = dict(conn.execute(select(Entity.entity_code, Entity.entity_name)).all())
    return _table(
        {
            "cycle": [cycle] * len(rows),
            "entity": [entity for entity, _, _ in rows],
            "name": [names.get(entity, np.nan) for entity, _, _ in rows],
            "learning_need": [need for _, need, _ in rows],
            "respondents": [respondents for *_, respondents in rows],
            "need_share": _shares(rows, 0),
        }
    )


def needs_by_cycle(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """Per LNA cycle and need: respondents and the need's share of the cycle's respondents."""
    rows = sorted(_sums(conn, filters, ["cycle", "learning_need"]))
    return _table(
        {
            "cycle": [cycle for cycle, _, _ in rows],
            "learning_need": [need for _, need, _ in rows],
            "respondents": [respondents for *_, respondents in rows],
            "need_share": _shares(rows, 0),
        }
    )


def need_gap(conn: Connection, filters: Filters, activity: Connection | None = None) -> pd.DataFrame:
    """need_share in the LNA minus the need's share of completions in the period, sorted by gap."""
    needs = _need_columns(conn, filters)
    done = completions_by_need(activity or conn, filters)
    found = dict(zip(done["learning_need"].tolist(), done["completions"].tolist(), strict=True))
    total = sum(found.values())
    # Gathered in plain Python: a few dozen needs, where a pandas merge and sort cost a few ms.
    completions = np.array([found.get(need, 0) for need in needs["learning_need"].tolist()], dtype=np.int64)
    share = np.full(len(completions), np.nan) if needs["need_share"] is pd.NA else needs["need_share"]
    completion_share = completions / total if total else np.full(len(completions), np.nan)
    gap = share - completion_share
    order = sorted(range(len(gap)), key=lambda row: (gap[row] != gap[row], -gap[row] if gap[row] == gap[row] else 0))
    columns = {name: needs[name] for name in ("cycle", "area", "learning_need", "respondents")}
    columns |= {"need_share": share, "completions": completions, "completion_share": completion_share, "need_gap": gap}
    taken = np.array(order, dtype=np.int64)
    return pd.DataFrame({name: values[taken] for name, values in columns.items()})


def completions_by_need(conn: Connection, filters: Filters) -> pd.DataFrame:
    """Completions in the period per learning need (rows without one left out), by SQL."""
    a = LearningActivity
    completed = and_(a.status == "completed", in_period(a.completed_on, filters), a.learning_need.is_not(None))
    query = apply_people_filters(select(a.learning_need, func.count()).where(completed), a, filters)
    if filters.platform:
        query = query.where(a.platform == filters.platform)
    return pd.DataFrame(conn.execute(query.group_by(a.learning_need)).all(), columns=["learning_need", "completions"])
