"""``inceptionism batch`` and ``--cluster`` on the command line: outputs, index, sheet, resume, refusals."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from inceptionism.cli import cli

pytestmark = pytest.mark.real  # the embedded SqueezeNet on the sample photo
SMALL = ["--max-size", "96", "--octaves", "2", "--steps", "2", "--seed", "9"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_batch_with_a_sweep_an_index_and_a_sheet_then_a_rerun_keeps_them(tmp_path, sample):
    out, sheet = tmp_path / "grid", tmp_path / "grid.png"
    result = run("batch", sample, "-o", out, "--sweep", "layer=fire3,fire5", "--sweep", "octaves=1,2",
                 "--sheet", sheet, "-q", *SMALL)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote 4 dreams to {out} (0 kept from before, seed 9), index {out / 'index.json'}",
        f"wrote {sheet}",
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "index.csv",
        "index.json",
        "sample-layer=fire3-octaves=1.png",
        "sample-layer=fire3-octaves=2.png",
        "sample-layer=fire5-octaves=1.png",
        "sample-layer=fire5-octaves=2.png",
    ]
    assert [row["layer"] for row in json.loads((out / "index.json").read_text())["items"]] == ["fire3"] * 2 + [
        "fire5"
    ] * 2
    again = run("batch", sample, "-o", out, "--sweep", "layer=fire3,fire5", "--sweep", "octaves=1,2", "-q", *SMALL)
    assert again.stdout.startswith(f"wrote 0 dreams to {out} (4 kept from before, seed 9)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sweep", "octave=2"], "Error: unknown option 'octave'; did you mean octaves, octave_scale, octave_sizes?"),
        (["--sweep", "octaves=x"], "Error: sweep octaves: 'x' is not a whole number (--sweep)"),
        (
            ["--cluster", "nowhere"],
            "Error: cluster must be local:N or a scheduler address like tcp://10.0.0.5:8786, got 'nowhere' (--cluster)",
        ),
        (["--threads", "0"], "Error: threads must be >= 1, got 0 (--threads)"),
    ],
)
def test_bad_batch_options_are_one_line_and_exit_2(tmp_path, sample, args, message):
    result = run("batch", sample, "-o", tmp_path / "out", *args)
    assert result.exit_code == 2 and result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_zoom_says_it_is_sequential_and_takes_no_cluster(tmp_path):
    help_text = " ".join(run("zoom", "--help").stdout.split())
    assert (
        "The zoom is sequential by nature (each frame is dreamed from the one before): it takes no --cluster"
        in help_text
    )
    assert "--cluster" not in help_text.split("Options:")[1]
    result = run("zoom", "-o", tmp_path / "z.mp4", "--cluster", "local:2")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No such option '--cluster'.")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.cluster
def test_batch_on_a_local_cluster_names_its_dashboard(tmp_path, sample):
    done = subprocess.run(
        [sys.executable, "-m", "inceptionism", "batch", str(sample), "-o", str(tmp_path / "out"),
         "--cluster", "local:2", *SMALL],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "notice: running on 2 Dask workers; dashboard: http://" in done.stderr
    assert done.stdout.startswith(f"wrote 1 dreams to {tmp_path / 'out'} (0 kept from before, seed 9)")


@pytest.mark.cluster
def test_ctrl_c_on_a_local_cluster_stops_after_a_dream_and_the_workers_survive_it(tmp_path, sample):
    photos = []
    for index in range(6):
        photos.append(tmp_path / f"p{index}.jpg")
        photos[-1].write_bytes(sample.read_bytes())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "inceptionism", "batch", *map(str, photos), "-o", str(out), "--cluster", "local:2",
               "--max-size", "400", "--steps", "20", "--seed", "3"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.png")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal does: the command and its workers get it
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "KeyboardInterrupt" not in stderr and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("Error: stopped after dream ")
    done = len(list(out.glob("*.png")))
    assert 1 <= done < 6
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"wrote {6 - done} dreams to {out} ({done} kept from before, seed 3)")
