"""The kept caches: each key built once, other keys served while one is being built, failures forgotten."""

import subprocess
import sys
import threading

import pytest

from inceptionism.lru import KeptCache, KeptPerObject


def test_a_slow_build_holds_up_only_the_callers_of_its_key():
    cache, started, release = KeptCache(4), threading.Event(), threading.Event()
    builds = []

    def slow():
        builds.append("slow")
        started.set()
        release.wait(10)
        return "slow value"

    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", cache.get("slow", slow)))
    same = threading.Thread(target=lambda: results.setdefault("same", cache.get("slow", slow)))
    first.start()
    assert started.wait(10)
    same.start()
    assert cache.get("quick", lambda: "quick value") == "quick value"  # served while "slow" is being built
    assert "first" not in results and "same" not in results
    release.set()
    first.join(10), same.join(10)
    assert results == {"first": "slow value", "same": "slow value"}
    assert builds == ["slow"]  # built once for both callers


def test_a_value_being_built_is_not_dropped_to_make_room():
    cache, started, release = KeptCache(1), threading.Event(), threading.Event()
    builds = []

    def slow():
        builds.append("a")
        started.set()
        release.wait(10)
        return "a"

    first = threading.Thread(target=cache.get, args=("a", slow))
    first.start()
    assert started.wait(10)
    assert cache.get("b", lambda: "b") == "b"  # over the size while "a" is being built
    second = threading.Thread(target=cache.get, args=("a", slow))
    second.start()
    release.set()
    first.join(10), second.join(10)
    assert builds == ["a"]
    assert cache.get("x", lambda: "x") == "x" and len(cache) == 1  # back to its size at the next build


def test_a_failed_build_is_forgotten_and_tried_again():
    cache = KeptCache(2)

    def broken():
        raise OSError("no network")

    with pytest.raises(OSError, match="no network"):
        cache.get("weights", broken)
    assert len(cache) == 0
    assert cache.get("weights", lambda: 1) == 1


def test_only_the_most_recently_used_are_kept():
    cache = KeptCache(2)
    for key in "abc":
        cache.get(key, lambda key=key: key.upper())
    cache.get("b", lambda: "rebuilt")
    assert cache.keys() == ["c", "b"]
    assert cache.get("a", lambda: "built again") == "built again"


def test_values_per_object_go_with_the_object():
    class Owner:
        pass

    cache, owner = KeptPerObject(2), Owner()
    assert cache.get(owner, "key", lambda: 1) == 1
    assert cache.get(owner, "key", lambda: 2) == 1
    assert cache.get(Owner(), "key", lambda: 3) == 3
    del owner
    assert len(cache._caches) == 0  # both owners are gone, and their values with them


def test_importing_the_package_starts_no_thread_and_registers_no_fork_hook():
    script = (
        "import threading, inceptionism, inceptionism.models.fast as fast;"
        "print(threading.active_count(), fast._forgotten_in_forked_children.cache_info().currsize)"
    )
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout == "1 0\n"
