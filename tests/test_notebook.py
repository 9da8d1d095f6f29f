"""notebooks/tour.ipynb runs top to bottom (nbclient, the venv's own kernel) and shows its results inline."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "tour.ipynb"

pytestmark = pytest.mark.real  # the embedded SqueezeNet's weights on the sample photo


def test_the_tour_runs_and_shows_its_results(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the atlas's tiles stay here
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel is this interpreter: the venv the tests run in, where inceptionism is installed.
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.kernel_manager_class = _kernel_manager()
    client.execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    videos = [output for output in outputs if "<video" in output.get("data", {}).get("text/html", "")]
    assert len(images) == 6  # dream, strokes, strong:8, banana, atlas, your own network
    assert len(videos) == 1  # the zoom, playing
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert "['fire5:" in printed  # the channels strong:8 ranked


def _kernel_manager():
    from jupyter_client.manager import KernelManager

    class ThisPython(KernelManager):
        """The kernel started with the interpreter running the tests (not whatever 'python3' is on PATH)."""

        def format_kernel_cmd(self, extra_arguments=None):
            return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]

    return ThisPython
