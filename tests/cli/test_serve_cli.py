"""``inceptionism serve``: it prints its URL and serves; a bad setting or a busy port is one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx2 as httpx
from click.testing import CliRunner

from inceptionism.cli import cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_prints_its_url_serves_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "inceptionism", "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"Inceptionism studio at http://127.0.0.1:{port}/  (data in {tmp_path / 'd'}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()[0]["name"] == "classic"
        assert (tmp_path / "d" / "jobs.sqlite3").is_file()
    finally:
        os.kill(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_serve_on_another_address_prints_the_token_url(tmp_path, monkeypatch):
    monkeypatch.setenv("INCEPTIONISM_TOKEN", "a-token-of-twenty-chars")
    port = free_port()
    command = [sys.executable, "-m", "inceptionism", "serve", "--host", "0.0.0.0", "--port", str(port),
               "--data-dir", str(tmp_path / "d")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"Inceptionism studio at http://127.0.0.1:{port}/?token=a-token-of-twenty-chars ")
    finally:
        process.kill()
        process.wait(timeout=30)


def test_bad_settings_and_a_busy_port_are_one_line(tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert result.stderr == "Error: workers must be >= 1, got 0 (--workers)\n"
    monkeypatch.setenv("INCEPTIONISM_QUEUE_LIMIT", "0")
    result = runner.invoke(cli, ["serve", "--data-dir", str(tmp_path / "d")])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: INCEPTIONISM_QUEUE_LIMIT: queue_limit must be >= 1, got 0\n",
    )
    monkeypatch.delenv("INCEPTIONISM_QUEUE_LIMIT")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(cli, ["serve", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ") and result.stderr.endswith(
        "; give another --port or --host\n"
    )
    assert not (tmp_path / "d").exists()


def test_a_bad_or_unreachable_cluster_is_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["serve", "--cluster", "nowhere", "--data-dir", str(tmp_path / "d")])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: INCEPTIONISM_CLUSTER: cluster must be local:N or a scheduler address like "
        "tcp://10.0.0.5:8786, got 'nowhere'\n",
    )
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = runner.invoke(cli, ["serve", "--cluster", "tcp://127.0.0.1:9", "--port", str(port),
                                 "--data-dir", str(tmp_path / "d")])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 (")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "d").exists()
