"""Probe for issue 6's planned summaries: exact distinct learners from compressed bitmaps (Roaring).

    python3 -m venv .venv-load && .venv-load/bin/pip install -r bench/requirements-load.txt
    .venv-load/bin/python bench/bitmap_probe.py /tmp/pages-bench-XXXX/bench.db

Not part of the app: it measures whether the design in the README ("At 10x and 100x the data")
answers the filters' distinct-learner questions fast enough, on a database built by
``bench/pages.py --rows 5000000``. Each learner gets a number; for every (month, platform) and every
(month, platform, duty station) and (month, platform, entity) the numbers of its active learners go
into one bitmap. A question is then the union of the bitmaps it covers. Every answer is checked
against SQL's COUNT(DISTINCT) on the raw table. Run by hand; figures go in the notes.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time
from collections.abc import Callable

import pandas as pd
from pyroaring import BitMap

SCAN = """
SELECT platform, learner_id, entity_code, duty_station_code,
       substr(enrolled_on, 1, 7) AS enrolled_month, substr(completed_on, 1, 7) AS completed_month
FROM learning_activity
"""


def timed(label: str, run: Callable[[], int], runs: int = 7) -> int:
    answer, seconds = 0, []
    for _ in range(runs):
        started = time.perf_counter()
        answer = run()
        seconds.append(time.perf_counter() - started)
    print(f"{label:<58} {answer:>9,}  median {statistics.median(seconds) * 1000:7.2f} ms")
    return answer


def main(path: str) -> None:
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    rows = pd.read_sql_query(SCAN, conn)
    print(f"read {len(rows):,} activity rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rows["learner"] = pd.factorize(rows["learner_id"])[0].astype("uint32")
    # An activity counts in the month it was enrolled in and in the month it was completed in.
    months = pd.concat(
        [
            rows.assign(month=rows["enrolled_month"]),
            rows[rows["completed_month"].notna()].assign(month=rows["completed_month"]),
        ]
    )[["month", "platform", "entity_code", "duty_station_code", "learner"]]

    def bitmaps(keys: list[str]) -> dict[tuple[str, ...], BitMap]:
        return {key: BitMap(part.to_numpy()) for key, part in months.groupby(keys, sort=False)["learner"]}

    by_platform = bitmaps(["month", "platform"])
    by_station = bitmaps(["month", "platform", "duty_station_code"])
    by_entity = bitmaps(["month", "platform", "entity_code"])
    size = sum(len(b.serialize()) for d in (by_platform, by_station, by_entity) for b in d.values())
    print(
        f"built {len(by_platform) + len(by_station) + len(by_entity):,} bitmaps in "
        f"{time.perf_counter() - started:.1f} s; {size / 1e6:.1f} MB serialised"
    )
    station = rows["duty_station_code"].value_counts().index[0]
    print(f"largest duty station: {station}")

    def union(found: list[BitMap]) -> BitMap:
        return BitMap.union(*found) if found else BitMap()

    everyone = timed("learners, everything (union of month x platform)", lambda: len(union(list(by_platform.values()))))
    in_station = timed(
        f"learners at {station}, all months",
        lambda: len(union([b for k, b in by_station.items() if k[2] == station])),
    )
    year = timed(
        f"learners at {station}, 2023 only",
        lambda: len(union([b for k, b in by_station.items() if k[2] == station and k[0].startswith("2023")])),
    )

    def per_entity() -> int:
        groups: dict[str, list[BitMap]] = {}
        for (_month, _platform, entity), bitmap in by_entity.items():
            groups.setdefault(entity, []).append(bitmap)
        return sum(len(union(found)) for found in groups.values())

    entity_sum = timed("learners per entity, summed over the 45+ entities", per_entity)

    print("checking against COUNT(DISTINCT) on the raw table (slow)...")
    sql = "SELECT COUNT(DISTINCT learner_id) FROM learning_activity"
    checks = [
        (everyone, sql, ()),
        (in_station, sql + " WHERE duty_station_code = ?", (station,)),
        (
            year,
            sql + " WHERE duty_station_code = ? AND (substr(enrolled_on, 1, 4) = '2023' "
            "OR substr(completed_on, 1, 4) = '2023')",
            (station,),
        ),
    ]
    for expected, query, params in checks:
        started = time.perf_counter()
        actual = conn.execute(query, params).fetchone()[0]
        status = "equal" if actual == expected else f"DIFFERENT (SQL says {actual:,})"
        print(f"  {expected:>9,} {status}; SQL took {time.perf_counter() - started:.2f} s")
    entity_sql = conn.execute(
        "SELECT SUM(n) FROM (SELECT COUNT(DISTINCT learner_id) AS n FROM learning_activity GROUP BY entity_code)"
    ).fetchone()[0]
    print(f"  {entity_sum:>9,} {'equal' if entity_sum == entity_sql else f'DIFFERENT ({entity_sql:,})'} per entity")


if __name__ == "__main__":
    main(sys.argv[1])
