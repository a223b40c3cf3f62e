"""The inference queue: one pass at a time, one pending pass per session, bounded in all."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.capture.queue import MSG_FULL, MSG_PREVIOUS, InferenceQueue
from dashboard.errors import BusyError


class Gate:
    """A computation that blocks until released, so a test controls what is pending."""

    def __init__(self, value: object = None) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.value = value

    def __call__(self) -> object:
        self.started.set()
        assert self.release.wait(10)
        return self.value


def in_thread(fn) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(_outcome(fn)))
    thread.start()
    return thread, out


def _outcome(fn):
    try:
        return fn()
    except BusyError as exc:
        return exc


def test_q01_second_pass_of_one_session_is_refused_at_once() -> None:
    queue = InferenceQueue(max_pending=8, timeout_s=10)
    first = Gate("a")
    thread, out = in_thread(lambda: queue.run("s1", "a", first, "pass a"))
    assert first.started.wait(5)
    with pytest.raises(BusyError, match="Still working on your previous image"):
        queue.run("s1", "b", lambda: "b", "pass b")
    assert str(BusyError(MSG_PREVIOUS)) == MSG_PREVIOUS
    first.release.set()
    thread.join(5)
    assert out == ["a"]
    assert queue.run("s1", "b", lambda: "b", "pass b") == "b"  # done: the session may go on
    assert queue.refused == 1 and queue.pending == 0


def test_q02_requests_for_a_queued_pass_join_it() -> None:
    queue = InferenceQueue(max_pending=8, timeout_s=10)
    gate, calls = Gate("x"), []

    def compute():
        calls.append(1)
        return gate()

    threads = [
        in_thread(lambda s=s: queue.run(s, "same", compute, "x")) for s in ("s1", "s1", "s2")
    ]
    assert gate.started.wait(5)
    gate.release.set()
    for thread, _ in threads:
        thread.join(5)
    assert [out for _, out in threads] == [["x"], ["x"], ["x"]] and len(calls) == 1


def test_q03_the_queue_is_bounded_and_says_so() -> None:
    queue = InferenceQueue(max_pending=2, timeout_s=10)
    gates = [Gate(i) for i in range(2)]
    running = [in_thread(lambda i=i: queue.run(f"s{i}", i, gates[i], "x")) for i in range(2)]
    assert gates[0].started.wait(5)
    while queue.pending < 2:
        time.sleep(0.01)
    with pytest.raises(BusyError) as info:
        queue.run("s9", 9, lambda: 9, "x")
    assert str(info.value) == MSG_FULL
    for gate in gates:
        gate.release.set()
    for thread, _ in running:
        thread.join(5)
    assert [out for _, out in running] == [[0], [1]]


def test_q04_a_flooding_session_cannot_push_back_another() -> None:
    """One session firing fresh passes gets one queued; another session is next in line."""
    queue = InferenceQueue(max_pending=8, timeout_s=10)
    order: list[str] = []
    blocker = Gate()
    holder = in_thread(lambda: queue.run("flood", "f0", blocker, "x"))
    assert blocker.started.wait(5)
    refused = 0
    for i in range(1, 50):  # the flood: all refused while its first pass is pending
        try:
            queue.run("flood", f"f{i}", lambda i=i: order.append(f"f{i}"), "x")
        except BusyError:
            refused += 1
    benign = in_thread(lambda: queue.run("benign", "b", lambda: order.append("b") or "ok", "x"))
    blocker.release.set()
    benign[0].join(5)
    holder[0].join(5)
    assert refused == 49 and benign[1] == ["ok"] and order == ["b"]


def test_q05_a_slow_pass_times_out_with_a_sentence_and_still_lands() -> None:
    queue = InferenceQueue(max_pending=8, timeout_s=0.05)
    gate = Gate("late")
    with pytest.raises(BusyError, match=r"^Running X took longer than 0\.05 s; try again"):
        queue.run("s1", "k", gate, "Running X")
    gate.release.set()
    assert queue.run("s1", "k", lambda: "never", "Running X") in ("late", "never")
