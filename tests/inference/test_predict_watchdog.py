"""The prediction watchdog (inference.predict._Watchdog): runs past their deadline are stopped,
runs released in time are not, whatever the thread was sleeping towards."""

from __future__ import annotations

import time

import onnxruntime as ort

from inference import predict


def wait_for(condition, seconds: float = 10.0) -> bool:
    """Return True once ``condition()`` holds (False after ``seconds``: liveness only)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def test_a_nearer_deadline_wakes_a_thread_sleeping_towards_a_far_one():
    dog = predict._Watchdog()
    far, near = ort.RunOptions(), ort.RunOptions()
    far_token = dog.watch(far, 3600)
    assert wait_for(lambda: dog._next_wake < float("inf"))  # asleep until the far deadline
    dog.watch(near, 0.01)
    assert wait_for(lambda: near.terminate)
    assert not far.terminate
    dog.release(far_token)


def test_a_released_run_is_never_stopped_and_an_idle_thread_wakes_again():
    dog = predict._Watchdog()
    done = ort.RunOptions()
    dog.release(dog.watch(done, 0.05))
    late = ort.RunOptions()
    time.sleep(0.2)  # past the released run's deadline; the thread has nothing to watch
    assert not done.terminate
    dog.watch(late, 0.01)
    assert wait_for(lambda: late.terminate)
    assert not done.terminate
