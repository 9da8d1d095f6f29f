"""The progress bar of a render of many frames: drawn on a terminal that reports no size."""

import os
import pty
import select
import sys
import weakref
from pathlib import Path

from tqdm import tqdm

from inceptionism.cli.render import run_render
from inceptionism.render.frames import FrameDone


def read_all(master: int) -> str:
    """What the terminal shows, up to the bar's last line: the kernel hands it over in pieces, not always at once."""
    drawn = b""
    while not drawn.endswith(b"\n") and select.select([master], [], [], 10)[0]:
        drawn += os.read(master, 2**16)
    return drawn.decode()


def test_the_bar_draws_on_a_terminal_that_reports_0_columns(monkeypatch):
    master, slave = pty.openpty()  # a new terminal has no size: 0 columns, 0 rows
    assert tuple(os.get_terminal_size(slave)) == (0, 0)
    terminal = os.fdopen(slave, "w")
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", "0")
    # Bars of earlier tests not yet collected would push this one down a line (tqdm's positions).
    monkeypatch.setattr(tqdm, "_instances", weakref.WeakSet())

    def render(callback):
        for index in range(3):
            callback(FrameDone(index, 10, resumed=False))
        return "done"

    try:
        assert run_render(render, kept=Path("work"), total=None, quiet=False) == "done"
        terminal.flush()
        drawn = read_all(master)
    finally:
        terminal.close()
        os.close(master)
    last = drawn.replace("\r\n", "\r").split("\r")[-2]  # the bar as it was left
    assert last.startswith(" 30%|") and "| 3/10 [" in last and len(last) <= 79
