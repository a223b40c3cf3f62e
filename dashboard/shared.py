"""State kept outside the web process: bytes in Redis under a key, each with a time to live.

Only used when ``REDIS_URL`` (or ``CONVSCOPE_REDIS_URL``) is set; without it the app keeps
everything in its own memory and nothing here runs. Uploaded images and weights are stored
by content digest (``samples.py``, ``models/registry.py``), so any web process can serve any
visitor's request and a restarted one loses nothing a visitor still needs.

Nothing here caches: a read refreshes the entry's TTL (``GETEX``), and what Redis may hold
in all is its own ``maxmemory``, evicting the least recently used of our keys (all carry a
TTL, so ``volatile-lru`` evicts only them, never a queue without one a job broker keeps).
A Redis that does not answer within a few seconds is a :class:`SharedStoreError` with one
sentence for the page, never a hang or a raw exception.
"""

from __future__ import annotations

import logging

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dashboard.config import Config
from dashboard.errors import SharedStoreError

log = logging.getLogger(__name__)

KEY_PREFIX = "convscope:"
CONNECT_TIMEOUT_S = 2.0
SOCKET_TIMEOUT_S = 5.0  # one command; a 100 MB value over loopback takes well under 1 s
EVICTION_POLICY = "volatile-lru"
# What a Redis that is down, restarting or unreachable raises through the client.
_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _full(exc: Exception) -> SharedStoreError:
    log.warning("shared store (Redis) full, nothing left it may evict: %s", exc)
    return SharedStoreError(
        "The server's shared store (Redis) is full; please try again later or with a smaller file."
    )


def _down(exc: Exception) -> SharedStoreError:
    log.warning("shared store (Redis) not answering: %s", exc)
    return SharedStoreError(
        "The server's shared store (Redis) is not answering; please try again in a moment."
    )


class SharedStore:
    """Bytes by key in one Redis, every entry with ``ttl_s`` refreshed on each read.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` address.
        ttl_s: seconds an entry lives after it was last written or read.
        max_entry_bytes: the most one entry may hold (callers check with :meth:`fits`).
    """

    def __init__(self, url: str, ttl_s: int, max_entry_bytes: int) -> None:
        self.ttl_s = ttl_s
        self.max_entry_bytes = max_entry_bytes
        # One retry without waiting: a pooled connection that died with a Redis restart is
        # replaced once; a Redis that is down answers "down" within the connect timeout.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=30,
        )

    @classmethod
    def from_config(cls, config: Config) -> SharedStore | None:
        """The store ``config`` names, with Redis's memory budget set; None without a URL."""
        if not config.redis_url:
            return None
        store = cls(config.redis_url, config.redis_ttl_s, config.redis_upload_bytes)
        if config.redis_memory_mb > 0:
            store.set_memory_budget(config.redis_memory_mb * 1024 * 1024)
        return store

    def fits(self, size: int) -> bool:
        return size <= self.max_entry_bytes

    def put(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` (the store's own TTL when None).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        ttl_ms = max(1, round((self.ttl_s if ttl_s is None else ttl_s) * 1000))
        try:
            self.client.set(KEY_PREFIX + key, value, px=ttl_ms)
        except redis.exceptions.OutOfMemoryError as exc:
            raise _full(exc) from None
        except _DOWN as exc:
            raise _down(exc) from None

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key`` (its TTL refreshed), None when there are none.

        Raises:
            SharedStoreError: Redis does not answer.
        """
        try:
            return self.client.getex(KEY_PREFIX + key, ex=self.ttl_s)
        except _DOWN as exc:
            raise _down(exc) from None

    def put_many(self, values: dict[str, bytes]) -> None:
        """Store every ``{key: value}`` with the store's TTL, in one pipelined round trip.

        Raises:
            SharedStoreError: Redis does not answer.
        """
        ttl_ms = self.ttl_s * 1000
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(KEY_PREFIX + key, value, px=ttl_ms)
                pipe.execute()
        except redis.exceptions.OutOfMemoryError as exc:
            raise _full(exc) from None
        except _DOWN as exc:
            raise _down(exc) from None

    def count(self, keys: list[str]) -> int:
        """How many of ``keys`` hold a value now (one ``EXISTS``, no values sent, TTLs
        untouched).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        if not keys:
            return 0
        try:
            return int(self.client.exists(*(KEY_PREFIX + key for key in keys)))
        except _DOWN as exc:
            raise _down(exc) from None

    def put_once(self, key: str, value: bytes) -> bytes:
        """The bytes under ``key``, set to ``value`` first if it holds none (``SET NX``), and
        kept without a TTL: whoever writes first, every caller gets the same bytes.

        Raises:
            SharedStoreError: Redis does not answer.
        """
        try:
            self.client.set(KEY_PREFIX + key, value, nx=True)
            stored = self.client.get(KEY_PREFIX + key)
        except redis.exceptions.OutOfMemoryError as exc:
            raise _full(exc) from None
        except _DOWN as exc:
            raise _down(exc) from None
        return value if stored is None else stored  # None: deleted in between (FLUSHALL)

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a value now (its TTL untouched).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        try:
            return bool(self.client.exists(KEY_PREFIX + key))
        except _DOWN as exc:
            raise _down(exc) from None

    def delete(self, key: str) -> None:
        """Remove ``key`` (nothing happens when it holds nothing).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        try:
            self.client.delete(KEY_PREFIX + key)
        except _DOWN as exc:
            raise _down(exc) from None

    def touch(self, key: str) -> None:
        """Refresh ``key``'s TTL if Redis answers; a miss or a Redis down is only logged
        (the caller still holds the value and serves it)."""
        try:
            self.client.expire(KEY_PREFIX + key, self.ttl_s)
        except _DOWN as exc:
            log.warning("shared store (Redis) not answering, TTL not refreshed: %s", exc)

    def memory_used(self) -> int:
        """The bytes Redis uses now (``INFO memory``).

        Raises:
            SharedStoreError: Redis does not answer.
        """
        try:
            return int(self.client.info("memory")["used_memory"])
        except _DOWN as exc:
            raise _down(exc) from None

    def ping(self) -> bool:
        """Whether Redis answers now (for /healthz)."""
        try:
            return bool(self.client.ping())
        except _DOWN:
            return False

    def set_memory_budget(self, max_bytes: int) -> None:
        """``maxmemory`` and the eviction policy, when this Redis lets a client set them
        (managed services often refuse CONFIG: then their own settings apply)."""
        try:
            self.client.config_set("maxmemory", max_bytes)
            self.client.config_set("maxmemory-policy", EVICTION_POLICY)
        except redis.exceptions.ResponseError as exc:
            log.info("Redis refused CONFIG SET (%s); its own maxmemory and policy apply", exc)
        except _DOWN as exc:
            log.warning("Redis not answering at start (%s); uploads wait for it", exc)
        else:
            log.info("Redis: maxmemory %d MB, %s", max_bytes // 2**20, EVICTION_POLICY)
