"""The atlas on a LocalCluster: batches of channels drawn on the workers give the tiles drawn here."""

import numpy as np
import pytest

from inceptionism.render.atlas import atlas

pytestmark = pytest.mark.cluster


def test_the_same_tiles_on_the_cluster_as_here(cluster_client):
    options = {"size": 48, "steps": 6, "batch": 2, "cache_tiles": False}
    here = atlas("squeezenet1_1", "fire2.squeeze1x1", [0, 3, 5, 7, 9], threads=1, **options)
    reports = []
    there = atlas("squeezenet1_1", "fire2.squeeze1x1", [0, 3, 5, 7, 9], cluster=cluster_client, threads=1,
                  progress=reports.append, **options)  # fmt: skip
    assert [tile.channel for tile in there.tiles] == [0, 3, 5, 7, 9] and there.rendered == 5
    for one, other in zip(here.tiles, there.tiles, strict=True):
        assert np.array_equal(np.asarray(one.image), np.asarray(other.image)), one.channel
        assert one.activation == other.activation
    assert len(reports) == 3 and reports[-1].done == 5  # one report per batch of channels, as they finish
