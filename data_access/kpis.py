"""Headline figures with the data contract's definitions (one definition for every page and export)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, and_, case, distinct, func, or_, select

from data_access.filters import Filters, apply_people_filters, in_period
from data_access.schema import DutyStation, Headcount, LearningActivity, ProgrammeParticipation

RATE_DIGITS = 4


def _rate(part: float | None, whole: float | None) -> float | None:
    if not whole or part is None:
        return None
    return round(part / whole, RATE_DIGITS)


def headcount_figures(conn: Connection, filters: Filters) -> dict[str, Any]:
    """Staff, entities and duty stations in the latest snapshot on or before the period end."""
    latest = apply_people_filters(select(func.max(Headcount.as_of_date)), Headcount, filters)
    if filters.date_to:
        latest = latest.where(Headcount.as_of_date <= filters.date_to)
    as_of = conn.execute(latest).scalar()
    if as_of is None:
        return {"as_of_date": None, "headcount": 0, "entities": 0, "duty_stations": 0}
    staffed = Headcount.headcount > 0
    query = apply_people_filters(
        select(
            func.coalesce(func.sum(Headcount.headcount), 0),
            func.count(distinct(case((staffed, Headcount.entity_code)))),
            func.count(distinct(case((staffed, Headcount.duty_station_code)))),
        ).where(Headcount.as_of_date == as_of),
        Headcount,
        filters,
    )
    headcount, entities, duty_stations = conn.execute(query).one()
    return {
        "as_of_date": as_of.isoformat(),
        "headcount": int(headcount),
        "entities": int(entities),
        "duty_stations": int(duty_stations),
    }


def platform_figures(conn: Connection, filters: Filters, headcount: int) -> dict[str, dict[str, Any]]:
    """learners, completers, activities, completions and reach_rate per platform."""
    activity = LearningActivity
    completed = and_(activity.status == "completed", in_period(activity.completed_on, filters))
    query = select(
        activity.platform,
        func.count(distinct(activity.learner_id)),
        func.count(distinct(case((completed, activity.learner_id)))),
        func.count(),
        func.count(case((completed, 1))),
    ).where(or_(in_period(activity.enrolled_on, filters), in_period(activity.completed_on, filters)))
    if filters.platform:
        query = query.where(activity.platform == filters.platform)
    query = apply_people_filters(query, activity, filters).group_by(activity.platform).order_by(activity.platform)
    return {
        platform: {
            "learners": learners,
            "completers": completers,
            "activities": activities,
            "completions": completions,
            "reach_rate": _rate(learners, headcount),
        }
        for platform, learners, completers, activities, completions in conn.execute(query)
    }


def programme_figures(conn: Connection, filters: Filters) -> dict[str, dict[str, Any]]:
    """Cohorts, participants, graduates and the shares of each, per programme.

    Cohorts are the time unit of a programme, so the period filter does not apply here.
    """
    p = ProgrammeParticipation
    graduate = p.status == "completed"
    field = DutyStation.is_headquarters.is_(False)
    gain = p.post_score - p.pre_score

    def count_if(condition: Any) -> Any:
        return func.count(case((condition, 1)))

    query = (
        apply_people_filters(
            select(
                p.programme,
                func.count(distinct(p.cohort)),
                func.count(),
                count_if(graduate),
                count_if(p.gender == "female"),
                count_if(and_(graduate, p.gender == "female")),
                count_if(field),
                count_if(and_(graduate, field)),
                count_if(p.contract_scope == "national"),
                count_if(and_(graduate, p.contract_scope == "national")),
                func.avg(p.satisfaction),
                func.avg(gain),
                count_if(p.applied_on_job == "yes"),
                count_if(p.applied_on_job.is_not(None)),
            ).join(DutyStation, DutyStation.duty_station_code == p.duty_station_code, isouter=True),
            p,
            filters,
        )
        .group_by(p.programme)
        .order_by(p.programme)
    )
    figures = {}
    for row in conn.execute(query):
        (name, cohorts, participants, graduates, female, female_grad, field_n, field_grad, national,
         national_grad, satisfaction, score_gain, applied, followed_up) = row  # fmt: skip
        figures[name] = {
            "cohorts": cohorts,
            "participants": participants,
            "graduates": graduates,
            "completion_rate": _rate(graduates, participants),
            "female_share_graduates": _rate(female_grad, graduates),
            "female_share_participants": _rate(female, participants),
            "field_share_participants": _rate(field_n, participants),
            "field_share_graduates": _rate(field_grad, graduates),
            "national_share_participants": _rate(national, participants),
            "national_share_graduates": _rate(national_grad, graduates),
            "avg_satisfaction": None if satisfaction is None else round(float(satisfaction), 2),
            "avg_score_gain": None if score_gain is None else round(float(score_gain), 2),
            "applied_on_job_rate": _rate(applied, followed_up),
        }
    return figures


def staff_figures(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Headcount, entities and duty stations of the latest snapshot (``headcount_figures`` on its own connection)."""
    with engine.connect() as conn:
        return headcount_figures(conn, filters)


def headline_kpis(engine: Engine, filters: Filters | None = None) -> dict[str, Any]:
    """The headline figures for a slice, as ``flask kpis --json`` prints them.

    >>> headline_kpis(engine)["platforms"]["Coursera"]["completers"]
    1300
    """
    filters = filters or Filters()
    with engine.connect() as conn:
        staff = headcount_figures(conn, filters)
        return {
            "filters": {
                "entity": filters.entity,
                "duty_station": filters.duty_station,
                "from": filters.date_from.isoformat() if filters.date_from else None,
                "to": filters.date_to.isoformat() if filters.date_to else None,
            },
            **staff,
            "platforms": platform_figures(conn, filters, staff["headcount"]),
            "programmes": programme_figures(conn, filters),
        }
