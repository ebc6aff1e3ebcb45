"""Learning needs analysis: respondents per need, area, priority, entity and cycle, and the needs-vs-uptake gap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, select

from data_access.activity_index import ActivityIndex
from data_access.contract import LEARNING_NEEDS, OTHER_AREA
from data_access.filters import Filters, apply_people_filters, in_period
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


def _respondents(conn: Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(query).all(), columns=[*columns, "respondents"])


def needs_by_need(conn: Connection, filters: Filters) -> pd.DataFrame:
    """Per need: respondents, need_share (of all respondents in the slice), high-priority respondents and share."""
    cycle = cycle_in_view(conn, filters)
    query = _scope(select(L.learning_need, L.priority, func.sum(L.respondents)), filters, need=False, cycle=cycle)
    rows = conn.execute(query.group_by(L.learning_need, L.priority)).all()
    # Totalled per need in plain Python and made a table once: a few dozen rows, where pandas'
    # grouping and per-column arithmetic cost more than the query.
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
    return pd.DataFrame(
        {
            "cycle": np.array([cycle] * len(named), dtype=object),
            "area": np.array([area_of(need) for need in named], dtype=object),
            "learning_need": np.array(named, dtype=object),
            "respondents": respondents,
            "high_priority_respondents": high,
            "need_share": respondents / total if total else pd.NA,
            "high_priority_share": np.divide(high, respondents, out=np.full(len(named), np.nan), where=respondents > 0),
        }
    )


def needs_by_priority(conn: Connection, filters: Filters) -> pd.DataFrame:
    """Per area and priority: respondents and the share of the area's respondents."""
    cycle = cycle_in_view(conn, filters)
    query = _scope(select(L.learning_need, L.priority, func.sum(L.respondents)), filters, cycle=cycle)
    rows = _respondents(conn, query.group_by(L.learning_need, L.priority), ["learning_need", "priority"])
    rows["area"] = rows["learning_need"].map(area_of)
    frame = rows.groupby(["area", "priority"], as_index=False)["respondents"].sum()
    frame["share_of_area"] = frame["respondents"] / frame.groupby("area")["respondents"].transform("sum")
    order = {"high": 0, "medium": 1, "low": 2}
    frame = frame.sort_values(["area", "priority"], key=lambda s: s.map(order) if s.name == "priority" else s)
    frame.insert(0, "cycle", cycle)
    return frame.reset_index(drop=True)


def needs_by_entity(conn: Connection, filters: Filters) -> pd.DataFrame:
    """Per entity and need: respondents and the need's share of the entity's respondents."""
    cycle = cycle_in_view(conn, filters)
    query = _scope(select(L.entity_code, L.learning_need, func.sum(L.respondents)), filters, cycle=cycle)
    frame = _respondents(conn, query.group_by(L.entity_code, L.learning_need), ["entity", "learning_need"])
    frame["need_share"] = frame["respondents"] / frame.groupby("entity")["respondents"].transform("sum")
    names = dict(conn.execute(select(Entity.entity_code, Entity.entity_name)).all())
    frame.insert(1, "name", frame["entity"].map(names))
    frame.insert(0, "cycle", cycle)
    return frame.sort_values(["entity", "learning_need"]).reset_index(drop=True)


def needs_by_cycle(conn: Connection, filters: Filters) -> pd.DataFrame:
    """Per LNA cycle and need: respondents and the need's share of the cycle's respondents."""
    query = _scope(select(L.cycle, L.learning_need, func.sum(L.respondents)), filters)
    frame = _respondents(conn, query.group_by(L.cycle, L.learning_need), ["cycle", "learning_need"])
    frame["need_share"] = frame["respondents"] / frame.groupby("cycle")["respondents"].transform("sum")
    return frame.sort_values(["cycle", "learning_need"]).reset_index(drop=True)


def need_gap(conn: Connection, filters: Filters, index: ActivityIndex | None = None) -> pd.DataFrame:
    """need_share in the LNA minus the need's share of completions in the period, sorted by gap."""
    needs = needs_by_need(conn, filters)[["cycle", "area", "learning_need", "respondents", "need_share"]]
    if index is not None and index.covers(filters):
        done = index.completions_by_need(filters)
    else:
        done = completions_by_need(conn, filters)
    total = done["completions"].sum()
    frame = needs.merge(done, on="learning_need", how="left").fillna({"completions": 0})
    frame["completion_share"] = frame["completions"] / total if total else pd.NA
    frame["need_gap"] = frame["need_share"] - frame["completion_share"]
    return frame.sort_values("need_gap", ascending=False, kind="stable").reset_index(drop=True)


def completions_by_need(conn: Connection, filters: Filters) -> pd.DataFrame:
    """Completions in the period per learning need (rows without one left out), by SQL."""
    a = LearningActivity
    completed = and_(a.status == "completed", in_period(a.completed_on, filters), a.learning_need.is_not(None))
    query = apply_people_filters(select(a.learning_need, func.count()).where(completed), a, filters)
    if filters.platform:
        query = query.where(a.platform == filters.platform)
    return pd.DataFrame(conn.execute(query.group_by(a.learning_need)).all(), columns=["learning_need", "completions"])
