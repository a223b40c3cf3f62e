"""dashboard.samples.ImageStore: uploads under per-session quotas and one global budget."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from dashboard.errors import UserError, page_message
from dashboard.images import MAX_SIDE, image_digest, load_image_bytes
from dashboard.samples import (
    MSG_NO_LONGER_HELD,
    MSG_TOO_LARGE_TO_KEEP,
    PER_SESSION_BYTES,
    RANDOM_KEY,
    UPLOAD_PREFIX,
    ImageStore,
)
from tests.unit import image_corpus as corpus

SMALL = 10 * 10 * 3  # bytes held for one of the `tile` images


def tile(n: int, side: int = 10) -> Image.Image:
    """A distinct RGB image per ``n`` (so a distinct digest)."""
    return Image.new("RGB", (side, side), (n % 256, n // 256 % 256, 7))


def held(store: ImageStore, key: str) -> bool:
    try:
        store.get(key)
    except UserError as exc:
        assert str(exc) == MSG_NO_LONGER_HELD
        return False
    return True


def assert_consistent(store: ImageStore) -> None:
    """The store's books balance and every limit holds (white box, for the thread test)."""
    assert store._total == sum(store._sizes.values()) <= store.budget_bytes
    assert set(store._images) == set(store._sizes) == set(store._holders)
    for session, keys in store._held.items():
        assert keys, "a session without uploads is forgotten"
        assert len(keys) <= store.per_session_images
        assert sum(store._sizes[key] for key in keys) <= store.per_session_bytes
        assert all(session in store._holders[key] for key in keys)
    for key, sessions in store._holders.items():
        assert sessions and all(key in store._held[session] for session in sessions)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads every few microseconds so races have a chance to show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_st01_key_is_the_digest_and_get_returns_the_pixels() -> None:
    store = ImageStore()
    image = tile(1)
    key = store.add_upload(image, "s1")
    assert key == UPLOAD_PREFIX + image_digest(image)
    assert store.get(key).tobytes() == image.tobytes()
    assert store.get(RANDOM_KEY) is None


def test_st02_unknown_key_is_no_longer_held() -> None:
    with pytest.raises(UserError) as info:
        ImageStore().get(UPLOAD_PREFIX + "0" * 64)
    assert page_message(info.value) == MSG_NO_LONGER_HELD


def test_st03_huge_uploads_from_one_session_do_not_evict_another_sessions() -> None:
    store = ImageStore()  # the production limits: 64 MiB budget, 12 MiB a session
    victim = store.add_upload(tile(1), "victim")
    # The attack: 4700² black PNGs (66 MB decoded each), now held at 1024², and then
    # as many other full-size uploads as it takes to fill the budget twice over.
    black = load_image_bytes(corpus.png_zero_filled(4700, 4700)).image
    attacker = [store.add_upload(black, "attacker")]
    for n in range(2 * 64 // 3):
        attacker.append(store.add_upload(tile(n + 2, MAX_SIDE), "attacker"))
    assert held(store, victim)
    assert [held(store, key) for key in attacker[-4:]] == [True] * 4  # its quota: 4
    assert not any(held(store, key) for key in attacker[:-4])


def test_st04_count_quota_drops_the_sessions_own_oldest() -> None:
    store = ImageStore(per_session_images=2)
    a1, a2 = store.add_upload(tile(1), "a"), store.add_upload(tile(2), "a")
    b1 = store.add_upload(tile(3), "b")
    a3 = store.add_upload(tile(4), "a")
    assert not held(store, a1)
    assert all(held(store, key) for key in (a2, a3, b1))


def test_st05_byte_quota_drops_the_sessions_own_oldest() -> None:
    store = ImageStore(per_session_bytes=3 * SMALL, per_session_images=100)
    a = [store.add_upload(tile(n), "a") for n in range(3)]
    b = store.add_upload(tile(99), "b")
    big = store.add_upload(tile(50, side=14), "a")  # 588 bytes: two of a's must go
    assert [held(store, key) for key in a] == [False, False, True]
    assert held(store, big) and held(store, b)


def test_st06_reupload_refreshes_instead_of_counting_twice() -> None:
    store = ImageStore(per_session_images=2)
    a1, a2 = store.add_upload(tile(1), "a"), store.add_upload(tile(2), "a")
    assert store.add_upload(tile(1), "a") == a1  # now a1 is a's newest
    a3 = store.add_upload(tile(3), "a")
    assert [held(store, key) for key in (a1, a2, a3)] == [True, False, True]


def test_st07_global_budget_evicts_the_least_recently_used() -> None:
    store = ImageStore(budget_bytes=3 * SMALL, per_session_bytes=SMALL)
    a, b, c = (store.add_upload(tile(n), session) for n, session in enumerate("abc"))
    store.get(a)  # a read makes `a` recent: `b` is now the least recently used
    d = store.add_upload(tile(3), "d")
    assert [held(store, key) for key in (a, b, c, d)] == [True, False, True, True]


def test_st08_shared_image_is_stored_once_and_charged_to_both() -> None:
    store = ImageStore(budget_bytes=4 * SMALL, per_session_images=2)
    shared = store.add_upload(tile(1), "a")
    assert store.add_upload(tile(1), "b") == shared
    store.add_upload(tile(2), "a")
    store.add_upload(tile(3), "b")  # 3 images held: within a budget of 4 if counted once
    store.add_upload(tile(4), "a")  # a is over its count: drops its share of `shared`
    assert held(store, shared)  # ... which b still holds
    assert_consistent(store)
    store.add_upload(tile(5), "b")  # now b lets go of it too
    assert not held(store, shared)
    assert_consistent(store)


def test_st09_oversize_image_refused_with_a_sentence() -> None:
    store = ImageStore()
    kept = store.add_upload(tile(1), "s")
    # A 24 MP image (what cachetools refused with "value too large", an HTTP 500).
    with pytest.raises(UserError) as info:
        store.add_upload(Image.new("RGB", (6000, 4000)), "s")
    assert page_message(info.value) == MSG_TOO_LARGE_TO_KEEP
    assert held(store, kept)
    # The largest decoded upload always fits a session's quota.
    assert PER_SESSION_BYTES >= MAX_SIDE * MAX_SIDE * 3
    store.add_upload(tile(2, MAX_SIDE), "s")


def test_st10_limits_are_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="per_session_bytes"):
        ImageStore(budget_bytes=100, per_session_bytes=101)
    with pytest.raises(ValueError, match="per_session_images"):
        ImageStore(per_session_images=0)
    with pytest.raises(ValueError, match="per_session_bytes"):
        ImageStore(budget_bytes=0)
    assert ImageStore(budget_bytes=SMALL).per_session_bytes == SMALL  # default: capped


def test_st11_concurrent_add_and_get_from_8_threads(fast_switching: None) -> None:
    store = ImageStore(budget_bytes=12 * SMALL, per_session_bytes=3 * SMALL, per_session_images=3)
    images = [tile(n) for n in range(40)]  # shared between sessions: digests collide
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def visitor(session: str, seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(300):
                image = rng.choice(images)
                key = store.add_upload(image, session)
                try:
                    assert store.get(key).tobytes() == image.tobytes()
                except UserError as exc:  # evicted meanwhile by the global budget
                    assert str(exc) == MSG_NO_LONGER_HELD
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=visitor, args=(f"s{n}", n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert_consistent(store)
