"""Submission tracker: which entities have sent data for the current period, and which have not."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, func, select

from data_access.schema import Entity, Headcount, LearningActivity, LearningNeed

#: Platform data counts as current when it has activity in this many days up to the latest upload's data.
ACTIVITY_WINDOW_DAYS = 92


def submission_status(
    engine: Engine, entities: tuple[str, ...] | None = None
) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Per entity (of ``entities``, or every one): has it sent the current LNA cycle, the latest headcount,
    and recent platform data?

    Returns the table and the periods it checks against (``cycle``, ``headcount``, ``activity_since``).
    """
    listed = select(Entity.entity_code, Entity.entity_name).order_by(Entity.entity_code)
    if entities is not None:
        listed = listed.where(Entity.entity_code.in_(entities))
    with engine.connect() as conn:
        entities = conn.execute(listed).all()
        cycle = conn.execute(select(func.max(LearningNeed.cycle))).scalar()
        snapshot = conn.execute(select(func.max(Headcount.as_of_date))).scalar()
        latest = conn.execute(select(func.max(LearningActivity.enrolled_on))).scalar()
        since = latest - dt.timedelta(days=ACTIVITY_WINDOW_DAYS) if latest else None

        def codes(query) -> set[str]:  # type: ignore[no-untyped-def]
            return set(conn.execute(query).scalars())

        lna = codes(select(LearningNeed.entity_code).distinct().where(LearningNeed.cycle == cycle)) if cycle else set()
        staff = (
            codes(select(Headcount.entity_code).distinct().where(Headcount.as_of_date == snapshot))
            if snapshot
            else set()
        )
        active = (
            codes(select(LearningActivity.entity_code).distinct().where(LearningActivity.enrolled_on >= since))
            if since
            else set()
        )
    frame = pd.DataFrame(entities, columns=["entity", "name"])
    frame["lna"] = frame["entity"].isin(lna)
    frame["headcount"] = frame["entity"].isin(staff)
    frame["platform_data"] = frame["entity"].isin(active)
    frame["complete"] = frame[["lna", "headcount", "platform_data"]].all(axis=1)
    periods = {
        "cycle": cycle,
        "headcount": snapshot.isoformat() if snapshot else None,
        "activity_since": since.isoformat() if since else None,
    }
    return frame.sort_values(["complete", "entity"]).reset_index(drop=True), periods
