"""The one cache: view tables keyed by the data version, so a commit or rollback is seen everywhere at once.

The data version changes with every loaded or rolled-back batch; a key holds it, so no entry
ever has to be invalidated: after a change, every worker simply asks for new keys. With
``CACHE_URL=redis://...`` all workers share one cache; otherwise each process keeps its own
small in-memory one. Tables are stored as Arrow IPC bytes (never pickle), so no caller can change
what another reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Protocol

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, func, select

from data_access.schema import UploadBatch

ENTRY_SECONDS = 24 * 3600
log = logging.getLogger(__name__)


class DataVersions(dict[str, str]):
    """Per upload kind, a version that changes with every loaded or rolled-back batch of that kind."""

    def of(self, kinds: tuple[str, ...]) -> str:
        """The version of the data a figure reads: only the kinds it reads."""
        return "|".join(f"{kind}={self.get(kind, '0')}" for kind in sorted(kinds))


def data_versions(engine: Engine) -> DataVersions:
    """One small grouped query: each kind's newest batch id and latest rollback."""
    query = select(UploadBatch.kind, func.max(UploadBatch.id), func.max(UploadBatch.rolled_back_at)).group_by(
        UploadBatch.kind
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return DataVersions({kind: f"{newest}:{rolled.isoformat() if rolled else '-'}" for kind, newest, rolled in rows})


class Store(Protocol):
    shared: bool  # whether other processes read it too
    failing: set[str]  # "read", "written": what failed last time (logged once)

    def describe(self) -> dict[str, object]: ...
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes) -> None: ...


class MemoryStore:
    """A per-process LRU of at most ``capacity`` entries."""

    shared = False

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()
        self.failing: set[str] = set()

    def describe(self) -> dict[str, object]:
        return {"kind": "memory of each process", "entries": len(self.entries)}

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)


class RedisStore:
    """Entries shared by every worker, expiring after a day (old data versions just age out)."""

    shared = True

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.failing: set[str] = set()

    def describe(self) -> dict[str, object]:
        """Redis's own figures; an unreachable Redis is reported, not raised."""
        try:
            memory = self.client.info("memory")
            return {"kind": "redis", "reachable": True, "used_memory_bytes": memory["used_memory"],
                    "keys": self.client.dbsize()}  # fmt: skip
        except Exception as exc:
            return {"kind": "redis", "reachable": False, "error": str(exc)}

    def get(self, key: str) -> bytes | None:
        return self.client.get(key)  # type: ignore[return-value]

    def set(self, key: str, value: bytes) -> None:
        self.client.set(key, value, ex=ENTRY_SECONDS)


def cached_table(store: Store, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table at ``key``, computed and kept when the store does not hold it.

    Every caller gets the table as the store keeps it, found or computed. A cache that is down
    only makes pages slower, never wrong: the table is computed, and the failure is logged once
    until the cache works again (not once per figure).
    """
    found = None
    with _failures(store, "read"):
        found = store.get(key)
    if found is not None:
        return from_bytes(found)
    value = to_bytes(compute())
    with _failures(store, "written"):
        store.set(key, value)
    return from_bytes(value)  # the same table a later visit reads back


@contextlib.contextmanager
def _failures(store: Store, action: str) -> Iterator[None]:
    """Swallow the store's errors: log the first of a run, and when the store works again."""
    try:
        yield
    except Exception as exc:
        if action not in store.failing:
            store.failing.add(action)
            log.warning(
                "the cache could not be %s (%s); figures are computed instead until it can. Check CACHE_URL; "
                "if Redis refuses values for their size or for memory, raise its proto-max-bulk-len or maxmemory",
                action, exc, exc_info=True,
            )  # fmt: skip
        return
    if action in store.failing:
        store.failing.discard(action)
        log.warning("the cache can be %s again", action)


def cache_key(*parts: str) -> str:
    return "learning:view:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def to_bytes(frame: pd.DataFrame) -> bytes:
    """The table as an Arrow IPC stream (pandas' dtypes kept in its metadata): read back about three
    times faster than Parquet, and every page reads several."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_bytes(value: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(value).read_all().to_pandas()
