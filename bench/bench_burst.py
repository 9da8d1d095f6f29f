"""How fast the studio answers a job's status while a burst of 16 submissions arrives during a running job.

Run:  .venv/bin/python bench/bench_burst.py          (about a minute)

It starts ``inceptionism serve`` (SqueezeNet, one worker, a queue of 8) in a process of its
own, submits a long dream (224x224 noise, 2000 steps of fire7) and, once it runs, polls
GET /api/jobs/{id} of it every 20 ms from one client: for 2 s with nothing else going on (the
reference), then while 16 submissions are sent at once (half with the sample photo, half from
noise), until all 16 are answered. Three rounds, the long job cancelled and the accepted ones
left to finish between them. Printed: the CPU capability; the status answers' median, 95th
percentile and slowest latency, alone and during the bursts, and their ratios; how many of the
16 were accepted (202) and refused (429); and that none was lost (each answered with one or
the other, each accepted one finished).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx
import torch

from inceptionism.io.images import sample_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from web.server_process import free_port, wait_until_answering

ROUNDS = 3
BURST = 16
QUEUE_LIMIT = 8
POLL = 0.02  # seconds between two status requests
REFERENCE = 2.0  # seconds of status requests while the long job runs alone
LONG = {"noise": "224x224", "octaves": 1, "steps": 2000, "layers": ["fire7"], "seed": 1}  # cancelled: never ends
SMALL = {"octaves": 1, "steps": 2, "layers": ["fire3"]}


def start_studio(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """``inceptionism serve`` over ``data_dir`` on a free port, and its URL once it answers."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("INCEPTIONISM_")}
    env |= {"INCEPTIONISM_QUEUE_LIMIT": str(QUEUE_LIMIT), "INCEPTIONISM_WORKERS": "1"}
    command = [sys.executable, "-m", "inceptionism", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(process, url, timeout=120)
    return process, url


def submit(url: str, params: dict, files: dict | None = None) -> httpx.Response:
    data = {"kind": "dream", "params": json.dumps(params)}
    return httpx.post(f"{url}/api/jobs", data=data, files=files, timeout=60)


def job(url: str, job_id: str) -> dict:
    return httpx.get(f"{url}/api/jobs/{job_id}", timeout=30).json()


def wait_until(url: str, job_id: str, condition, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while not condition(current := job(url, job_id)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} never got there: {current}")
        time.sleep(0.05)
    return current


def is_under_way(current: dict) -> bool:
    return current["state"] == "running" and current["progress"] > 0


def has_ended(current: dict) -> bool:
    return current["state"] not in ("queued", "running")


class StatusWatch:
    """One client asking for a job's status every :data:`POLL` seconds, each answer timed while it is on."""

    def __init__(self, url: str, job_id: str) -> None:
        self.address = f"{url}/api/jobs/{job_id}"
        self.timing = threading.Event()
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        with httpx.Client(timeout=30) as client:
            client.get(self.address)  # the connection is made outside the measure
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    code = client.get(self.address).status_code
                except httpx.HTTPError as error:
                    code = type(error).__name__
                if self.timing.is_set():
                    self.latencies.append(time.perf_counter() - started)
                    if code != 200:
                        self.failures.append(str(code))
                time.sleep(POLL)

    def measure(self, seconds: float | None = None, *, during=None) -> list[float]:
        """The latencies of the status answers for ``seconds``, or while ``during()`` runs."""
        self.latencies = []
        self.timing.set()
        if during is None:
            time.sleep(seconds)
        else:
            during()
        self.timing.clear()
        return self.latencies


def burst(url: str) -> list[httpx.Response | str]:
    """:data:`BURST` submissions at once; their answers (the error's name for one that got none)."""
    photo = sample_path().read_bytes()
    answers: list[httpx.Response | str] = []

    def send(seed: int) -> None:
        try:
            if seed % 2:
                answers.append(submit(url, SMALL | {"seed": seed, "max_size": 64}, {"image": ("sample.jpg", photo)}))
            else:
                answers.append(submit(url, SMALL | {"noise": "64x64", "seed": seed}))
        except httpx.HTTPError as error:
            answers.append(type(error).__name__)

    senders = [threading.Thread(target=send, args=(seed,)) for seed in range(BURST)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return answers


def one_round(url: str) -> tuple[list[float], list[float], dict[str, int]]:
    long_id = submit(url, LONG).json()["id"]
    wait_until(url, long_id, is_under_way)
    watch = StatusWatch(url, long_id)
    watch.thread.start()
    answers: list[httpx.Response | str] = []
    try:
        alone = watch.measure(REFERENCE)
        during = watch.measure(during=lambda: answers.extend(burst(url)))
    finally:
        watch.stop.set()
        watch.thread.join()
    httpx.post(f"{url}/api/jobs/{long_id}/cancel", timeout=30)
    codes = [answer.status_code if isinstance(answer, httpx.Response) else answer for answer in answers]
    accepted = [answer.json()["id"] for answer in answers if not isinstance(answer, str) and answer.status_code == 202]
    ended = [wait_until(url, job_id, has_ended) for job_id in accepted]
    counts = {
        "accepted": codes.count(202),
        "refused": codes.count(429),
        "lost": BURST - codes.count(202) - codes.count(429),  # unanswered, or answered otherwise
        "done": sum(current["state"] == "done" for current in ended),
        "status failures": len(watch.failures),
    }
    wait_until(url, long_id, has_ended)
    return alone, during, counts


def shown(latencies: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile and slowest, in milliseconds."""
    ms = sorted(value * 1000 for value in latencies)
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[18], ms[-1]


def figures(values: list[float] | tuple[float, ...], unit: str) -> str:
    median, p95, most = values
    return f"median {median:6.1f}{unit}   p95 {p95:6.1f}{unit}   max {most:6.1f}{unit}"


def main() -> None:
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}")
    alone, during, rounds = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        process, url = start_studio(Path(scratch) / "studio")
        try:
            for _ in range(ROUNDS):
                quiet, busy, counts = one_round(url)
                alone += quiet
                during += busy
                rounds.append(counts)
        finally:
            process.terminate()
            process.wait(timeout=60)
    reference, busy = shown(alone), shown(during)
    print(f"status answers, the long job alone:  {figures(reference, ' ms')}   ({len(alone)} answers)")
    print(f"status answers, during the bursts:   {figures(busy, ' ms')}   ({len(during)} answers)")
    print(f"during / alone:                      {figures([b / a for b, a in zip(busy, reference, strict=True)], 'x')}")
    for number, counts in enumerate(rounds, 1):
        print(
            f"round {number}: of {BURST} submissions {counts['accepted']} accepted (202), {counts['refused']} refused "
            f"(429), {counts['lost']} lost; {counts['done']} of the accepted done; "
            f"{counts['status failures']} status requests failed"
        )


if __name__ == "__main__":
    main()
