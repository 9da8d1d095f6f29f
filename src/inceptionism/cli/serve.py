"""``inceptionism serve``: the web studio on this machine."""

from __future__ import annotations

import contextlib
import socket
import threading
import webbrowser
from pathlib import Path

import click

from inceptionism.cli.app import cli, fail
from inceptionism.cli.options import option_flags
from inceptionism.distributed.cluster import connect, parse_cluster
from inceptionism.web.options import SERVE_OPTIONS


@cli.command("serve")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1); others need the access token.")
@option_flags({"port": SERVE_OPTIONS["port"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where jobs and results are kept (default ~/.inceptionism/studio).",
)
@option_flags({"workers": SERVE_OPTIONS["workers"]})
@click.option("--cluster", metavar="ADDRESS|local:N", default=None,
              help="Hand the jobs to a Dask cluster: a scheduler address, or local:N worker processes here. "
              "A zoom, sequential by nature, still runs here.")  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the studio in the browser.")
def serve_command(host: str | None, port: int | None, data_dir: Path | None, workers: int | None,
                  cluster: str | None, open_browser: bool) -> None:  # fmt: skip
    """Serve the web studio: drop a photo, pick a layer, watch it dream.

    Settings not given here come from INCEPTIONISM_* environment variables
    (INCEPTIONISM_PORT, INCEPTIONISM_DATA_DIR, INCEPTIONISM_WORKERS, INCEPTIONISM_TOKEN,
    INCEPTIONISM_QUEUE_LIMIT, INCEPTIONISM_MAX_UPLOAD_MB...), then the defaults.

    \b
    Examples:
        inceptionism serve --open
        inceptionism serve --port 8080 --data-dir ~/dreams
        inceptionism serve --host 0.0.0.0   # prints a URL with the access token
        inceptionism serve --cluster tcp://10.0.0.5:8786
    """
    try:
        import uvicorn
        from pydantic import ValidationError

        from inceptionism.web.app import create_app
        from inceptionism.web.config import ServerSettings
        from inceptionism.web.livesession import LIVE_MESSAGE
    except ImportError as error:
        fail(f"the studio needs the [web] extra ({error.name} is missing): pip install 'inceptionism[web]'")
    given = {"host": host, "port": port, "data_dir": data_dir, "workers": workers, "cluster": cluster}
    try:
        settings = ServerSettings(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as error:
        problem = error.errors()[0]
        fail(f"INCEPTIONISM_{str(problem['loc'][0]).upper()}: {problem['msg'].removeprefix('Value error, ')}")
    _check_port_free(settings.host, settings.port)
    with contextlib.ExitStack() as stack:
        client, threads = None, None
        if settings.cluster is not None:
            spec = parse_cluster(settings.cluster)
            client, threads = stack.enter_context(connect(spec)), spec.threads
            if "workers" not in settings.model_fields_set:
                size = len(client.scheduler_info(n_workers=-1).get("workers", {}))
                most = int(SERVE_OPTIONS["workers"].maximum)
                settings = settings.model_copy(update={"workers": max(1, min(most, size))})
        try:
            app = create_app(settings, cluster=client, cluster_threads=threads)
        except OSError as error:
            fail(f"cannot use the data directory {settings.data_dir}: {error.strerror or error}")
        token = app.state.studio.token
        url = settings.url + (f"?token={token}" if token else "")
        where = f"; jobs on the Dask cluster {settings.cluster}, dashboard {client.dashboard_link}" if client else ""
        click.echo(f"Inceptionism studio at {url}  (data in {settings.data_dir}{where}; Ctrl-C stops)")
        if open_browser:
            threading.Timer(1.0, webbrowser.open, args=(url,)).start()
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", ws_max_size=LIVE_MESSAGE)


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            fail(f"cannot listen on {host}:{port}: {error.strerror or error}; give another --port or --host")
