"""Where and in what precision to compute: device and autocast choices, made explicitly per call."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import platform
import re
import sys
from collections.abc import Iterator
from typing import Any

import torch

from inceptionism.checks import check_choice
from inceptionism.errors import DeviceError, InvalidParameterError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_MMAP_THRESHOLD = 32 * 2**20  # the highest glibc accepts on 64-bit systems
_TRIM_THRESHOLD = 2**30
BUDGET_SHARE = 0.5
"""The memory budget left to choose: this share of the device's memory (the machine's on the CPU).
Of its whole memory, not of what is free at the moment: the budget decides the tile plan, and so
the pixels, which must not change from one run (a resume, ``--from``) to the next on one machine."""
BUDGET_FALLBACK_MB = 512  # where the memory cannot be read (an Apple GPU, a system without sysconf)
BUDGET_FLOOR_MB = 256


def check_device_name(name: object) -> None:
    """Refuse a device name that is none of ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.

    Only the form is checked: whether the device exists is decided where the dream runs.

    >>> check_device_name("tpu")
    Traceback (most recent call last):
    ...
    inceptionism.errors.InvalidParameterError: device must be one of auto, cpu, cuda, mps, got 'tpu'
    """
    if not isinstance(name, str) or (name not in DEVICES and not re.fullmatch(r"cuda:\d{1,3}", name)):
        raise InvalidParameterError(f"device must be one of {', '.join(DEVICES)}, got {name!r}", argument="device")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then the CPU; an explicit device must exist here.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    check_device_name(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"device {name!r} is not available: this torch sees no CUDA GPU; use device 'cpu'", argument="device"
        )
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(
            "device 'mps' is not available: this torch sees no Apple GPU; use device 'cpu'", argument="device"
        )
    return torch.device(name)


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bf16 matrix maths natively (AVX-512 BF16 or AMX)."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolve_precision(name: str, device: torch.device) -> str:
    """Turn ``auto`` into the fastest precision that keeps the dream as strong on ``device``.

    ``auto`` is bf16 on CPUs with native bf16 and on CUDA GPUs that support it, fp16 on
    other CUDA GPUs, fp32 elsewhere.

    >>> resolve_precision("fp32", torch.device("cpu"))
    'fp32'
    """
    check_choice("precision", name, PRECISIONS)
    if name != "auto":
        if name == "fp16" and device.type == "cpu":
            raise DeviceError("precision 'fp16' is not supported on the CPU; use bf16 or fp32", argument="precision")
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_bf16():
        return "bf16"
    return "fp32"


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The dtype autocast computes in for ``precision`` (``None`` for fp32: no autocast).

    >>> autocast_dtype("bf16")
    torch.bfloat16
    """
    return _DTYPES.get(precision)


@contextlib.contextmanager
def autocast(device: torch.device, precision: str) -> Iterator[None]:
    """Autocast to ``precision`` on ``device`` (nothing for fp32)."""
    if precision == "fp32":
        yield
        return
    with torch.autocast(device.type, dtype=_DTYPES[precision]):
        yield


@functools.cache
def keep_freed_memory() -> bool:
    """Let glibc reuse the memory of freed activations instead of returning it to the system.

    Every step allocates and frees the same large activations. By default glibc maps each
    large block with ``mmap`` and unmaps it when freed, so the next step faults every page in
    again: about 800,000 page faults in one 1024x683 GoogLeNet dream, 160,000 after this.
    Blocks up to 32 MB then come from the heap, and up to 1 GB of freed heap is kept for
    reuse. It applies to the whole process, on Linux with glibc only; later calls do nothing.
    The ``inceptionism`` command calls it; as a library, inceptionism leaves the allocator of
    your process alone unless you call it.

    Returns:
        Whether the allocator was tuned.
    """
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


def give_back_freed_memory() -> bool:
    """Hand the pages of freed memory back to the system (glibc's ``malloc_trim(0)``); whether any were.

    A server calls it after a job: what the job held is returned rather than kept for reuse.
    Elsewhere than Linux with glibc this does nothing and returns ``False``.

    >>> isinstance(give_back_freed_memory(), bool)
    True
    """
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


@functools.cache
def _glibc() -> Any:
    """glibc, where this process runs on it; else ``None``."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Set torch's intra-op threads to ``threads`` inside the block (``None``: leave them as they are).

    The pixels of a dream depend on it: oneDNN's convolutions round differently with another
    thread count, and gradient ascent grows those differences.
    """
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def device_memory(device: torch.device) -> int | None:
    """Bytes of memory ``device`` has in all (the machine's on the CPU), or ``None`` if it cannot be told."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    if device.type != "cpu":
        return None
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget(asked: int | None, device: torch.device, *, maximum: int) -> int:
    """The megabytes of activations one step may use: ``asked``, else :data:`BUDGET_SHARE` of the device's memory.

    Bounded to ``BUDGET_FLOOR_MB..maximum``; :data:`BUDGET_FALLBACK_MB` where the free memory cannot be read.

    >>> memory_budget(300, torch.device("cpu"), maximum=16384)
    300
    """
    if asked is not None:
        return asked
    total = device_memory(device)
    if total is None:
        return BUDGET_FALLBACK_MB
    return int(min(max(total * BUDGET_SHARE / 2**20, BUDGET_FLOOR_MB), maximum))
