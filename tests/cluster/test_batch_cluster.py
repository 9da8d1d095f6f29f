"""Batches on a LocalCluster: the same pixels as in this process, a killed worker, a bad item."""

import os
import signal

import numpy as np
import pytest
from cluster_helpers import worker_pids
from PIL import Image

from conftest import DATA
from inceptionism.errors import ImageError
from inceptionism.render.batch import batch

pytestmark = pytest.mark.cluster
OPTIONS = {"octaves": 2, "steps": 6, "jitter": 8, "max_size": 112, "seed": 11, "precision": "fp32"}


@pytest.fixture
def photos(tmp_path, sample):
    paths = []
    for index in range(4):
        path = tmp_path / f"photo{index}.jpg"
        path.write_bytes((sample if index % 2 == 0 else DATA / "coffee.jpg").read_bytes())
        paths.append(path)
    return paths


def pixels(path):
    return np.asarray(Image.open(path))


def test_the_same_pixels_on_the_cluster_as_here(tmp_path, photos, cluster_client):
    sweep = ["layer=fire3,fire5"]
    here = batch(photos, tmp_path / "here", sweep=sweep, threads=1, **OPTIONS)
    there = batch(photos, tmp_path / "there", sweep=sweep, cluster=cluster_client, threads=1, **OPTIONS)
    assert there.dreamed == here.dreamed == 8
    for one, other in zip(here.items, there.items, strict=True):
        assert one.output.name == other.output.name
        assert np.array_equal(pixels(one.output), pixels(other.output)), one.output.name
    assert (tmp_path / "there" / "index.csv").read_text() == (tmp_path / "here" / "index.csv").read_text()


def test_a_killed_worker_loses_only_its_task(tmp_path, photos, cluster_client):
    here = batch(photos, tmp_path / "here", threads=1, **{**OPTIONS, "steps": 12})
    before = worker_pids(cluster_client)
    killed = []

    def kill_one(done):
        if not killed:  # after the first dream back: the other worker is busy with its task
            os.kill(before[0], signal.SIGKILL)
            killed.append(before[0])

    there = batch(
        photos, tmp_path / "there", cluster=cluster_client, threads=1, callback=kill_one, **{**OPTIONS, "steps": 12}
    )
    assert killed and there.dreamed == 4
    for one, other in zip(here.items, there.items, strict=True):
        assert np.array_equal(pixels(one.output), pixels(other.output)), one.output.name
    cluster_client.wait_for_workers(2, timeout=60)
    assert before[0] not in worker_pids(cluster_client)  # the nanny started a new process


def test_a_bad_item_fails_the_batch_with_its_own_line(tmp_path, photos, cluster_client):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ImageError) as caught:
        batch([*photos, broken], tmp_path / "out", cluster=cluster_client, **OPTIONS)
    assert str(caught.value).startswith("broken.jpg is damaged or truncated") or str(caught.value) == (
        "broken.jpg is not an image Pillow can read"
    )
    assert "\n" not in str(caught.value)
