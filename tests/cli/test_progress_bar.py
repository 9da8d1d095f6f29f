"""The progress bar of a render of many frames: drawn on a terminal that reports no size."""

import os
import pty
import sys
from pathlib import Path

from inceptionism.cli.render import run_render
from inceptionism.render.frames import FrameDone


def test_the_bar_draws_on_a_terminal_that_reports_0_columns(monkeypatch):
    master, slave = pty.openpty()  # a new terminal has no size: 0 columns, 0 rows
    assert tuple(os.get_terminal_size(slave)) == (0, 0)
    terminal = os.fdopen(slave, "w")
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", "0")

    def render(callback):
        for index in range(3):
            callback(FrameDone(index, 10, resumed=False))
        return "done"

    try:
        assert run_render(render, kept=Path("work"), total=None, quiet=False) == "done"
        terminal.flush()
        drawn = os.read(master, 2**16).decode()
    finally:
        terminal.close()
        os.close(master)
    last = drawn.replace("\r\n", "\r").split("\r")[-2]  # the bar as it was left
    assert last.startswith(" 30%|") and "| 3/10 [" in last and len(last) <= 79
