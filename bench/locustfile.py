"""Load test: viewers moving between pages and filters, and uploaders previewing and committing files.

Run by ``bench/load.py`` (which prepares the data, starts gunicorn and calls locust); not a test.
"""

from __future__ import annotations

import itertools
import json
import random
import time

from locust import HttpUser, between, task
from router import router_body  # bench/router.py; locust puts this folder on the path

PASSWORD = "load-test-password"
PAGES = ["/", "/uptake", "/needs", "/leadership", "/entity/OCHA"]
FILTERS = ["", "?entity=OCHA", "?gender=female", "?duty_station=US-NEWYORK", "?from=2024-01-01&to=2024-09-30",
           "?platform=Coursera", "?entity=MONUSCO&gender=male", "?staff_category=GS"]  # fmt: skip
ROUTER = ".._pages_content.children..._pages_store.data.."
HEADER = (
    "platform,learner_id,course_id,enrolled_on,entity_code,duty_station_code,staff_category,gender,status,completed_on"
)
COMMIT_OUTPUTS = (("data-poll", "disabled"), ("data-message", "children"))
PANEL = (("data-panel", "children"), ("data-poll", "disabled"), ("data-commit", "disabled"),
         ("data-cancel", "disabled"), ("data-history", "children"))  # fmt: skip
_viewers = itertools.count(1)
_uploaders = itertools.count(1)
_rows = itertools.count(1)


class Signed(HttpUser):
    abstract = True
    username = ""

    def on_start(self) -> None:
        self.client.headers["Origin"] = self.host
        self.client.post("/login", data={"username": self.username, "password": PASSWORD}, name="/login")


class Viewer(Signed):
    weight = 50
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.username = f"viewer{next(_viewers) % 50 + 1:02d}"
        super().on_start()

    @task(10)
    def page_with_filters(self) -> None:
        path, search = random.choice(PAGES), random.choice(FILTERS)  # noqa: S311
        self.client.post("/_dash-update-component", json=router_body(ROUTER, path, search), name=f"page {path}")

    @task(1)
    def export(self) -> None:
        self.client.get(f"/export/uptake_by_entity.csv{random.choice(FILTERS)}", name="/export")  # noqa: S311


class Uploader(Signed):
    fixed_count = 2
    wait_time = between(5, 10)

    def on_start(self) -> None:
        self.username = f"uploader{next(_uploaders)}"
        super().on_start()
        # Outputs shared with another callback carry a suffix: take the commit callback's key from the app.
        dependencies = self.client.get("/_dash-dependencies", name="/_dash-dependencies").json()
        self.commit_output = next(
            d["output"]
            for d in dependencies
            if "data-message.children" in d["output"] and "data-commit" in str(d["inputs"])
        )

    @task
    def upload_preview_commit(self) -> None:
        batch = next(_rows)
        lines = [
            "platform,learner_id,course_id,enrolled_on,entity_code,duty_station_code,staff_category,gender,status,completed_on"
        ]
        lines += [
            f"Coursera,LOAD{batch:04d}{n:04d},C-{n},2024-09-01,OCHA,CH-GENEVA,P,female,completed,2024-09-15"
            for n in range(200)
        ]
        name = f"load-{self.username}-{batch}.csv"
        job = self.client.post(
            f"/upload?kind=learning_activity&name={name}", data="\n".join(lines).encode(), name="/upload"
        )
        job_id = job.json()["job"] if job.ok else None
        if job_id is None:
            return
        if not self._wait(job_id, ("valid", "rejected", "duplicate", "failed")):
            return
        commit = {"output": self.commit_output,
                  "outputs": [{"id": i, "property": p} for i, p in COMMIT_OUTPUTS],
                  "inputs": [{"id": "data-commit", "property": "n_clicks", "value": 1}],
                  "state": [{"id": "data-job", "property": "data", "value": job_id}],
                  "changedPropIds": ["data-commit.n_clicks"]}  # fmt: skip
        self.client.post("/_dash-update-component", json=commit, name="commit")
        self._wait(job_id, ("loaded", "failed"))

    def _wait(self, job_id: str, done: tuple[str, ...]) -> bool:
        body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in PANEL) + "..",
                "outputs": [{"id": i, "property": p} for i, p in PANEL],
                "inputs": [{"id": "data-job", "property": "data", "value": job_id},
                           {"id": "data-poll", "property": "n_intervals", "value": 1}],
                "state": [], "changedPropIds": ["data-poll.n_intervals"]}  # fmt: skip
        for _ in range(120):
            answer = self.client.post("/_dash-update-component", json=body, name="poll upload")
            text = json.dumps(answer.json()) if answer.ok else ""
            if any(f'"data-status": "{status}"' in text for status in done):
                return True
            time.sleep(0.5)
        return False
