"""Each process's activity summaries, one per data version, built in the background and shared via Redis."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, select

from data_access.reads.activity_build import build_index, touched_months, update_index
from data_access.reads.activity_index import ActivityIndex
from data_access.reads.cache import Store, cache_key, data_versions
from data_access.schema import UploadBatch

log = logging.getLogger(__name__)

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
        self.built: dict[str, ActivityIndex | bool] = {}  # the latest version or two; False: nothing to index
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
                index.prepare()
                self.latest = (version, index)
            with self.lock:
                self.built = {**dict(list(self.built.items())[-1:]), version: index or False}
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
