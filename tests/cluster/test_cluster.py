"""Naming a cluster: local:N, scheduler addresses, and the one line when one cannot be reached."""

import subprocess
import sys
import time

import pytest

from inceptionism.distributed import ClusterError, InProcess, open_executor, parse_cluster


def test_local_and_addresses_are_parsed():
    assert parse_cluster("local:3").workers == 3
    assert parse_cluster(" local:1 ").threads >= 1
    assert parse_cluster("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    assert parse_cluster("10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    assert parse_cluster("tls://scheduler.lan:8786").address == "tls://scheduler.lan:8786"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("local:0", "local:N takes 1 to 64 worker processes, got 0"),
        ("local:65", "local:N takes 1 to 64 worker processes, got 65"),
        ("scheduler", "cluster must be local:N or a scheduler address like tcp://10.0.0.5:8786, got 'scheduler'"),
        ("http://x:1 y", "cluster must be local:N or a scheduler address like tcp://10.0.0.5:8786, got 'http://x:1 y'"),
    ],
)
def test_bad_cluster_names_are_refused(text, message):
    with pytest.raises(ClusterError) as caught:
        parse_cluster(text)
    assert str(caught.value) == message and caught.value.argument == "cluster"


def test_without_a_cluster_tasks_run_here_in_order():
    with open_executor(None, threads=1) as executor:
        assert isinstance(executor, InProcess)
        assert list(executor.run(divmod, [(7, 2), (9, 4)])) == [(0, (3, 1)), (1, (2, 1))]


def test_an_unreachable_scheduler_is_one_line_within_seconds():
    started = time.perf_counter()
    with pytest.raises(ClusterError) as caught, open_executor("tcp://127.0.0.1:9"):
        pass
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert message.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9 (")
    assert message.endswith("start one with `dask scheduler` and workers with `dask worker ADDRESS`, or use local:N")
    assert "\n" not in message


def test_the_command_line_says_so_and_exits_2(tmp_path, sample):
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "inceptionism", "batch", str(sample), "-o", str(tmp_path / "out"),
         "--cluster", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and time.perf_counter() - started < 15
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()
