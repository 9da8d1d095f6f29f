"""``inceptionism video``: dream every frame of a film, the dream carried along the optical flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from inceptionism.cli.app import cli, show_notices
from inceptionism.cli.dream import dream_settings
from inceptionism.cli.options import cluster_options, dreaming_options, option_flags, resume_options
from inceptionism.cli.render import run_render
from inceptionism.engine.dreamer import settings_network
from inceptionism.io.files import unused_path
from inceptionism.render.framestore import work_dir_for
from inceptionism.render.video import video
from inceptionism.render.videoplan import VIDEO_OPTIONS

NOT_FOR_VIDEO = ("--noise", "--param", "--lr")
"""Dream options a video does not take: its frames are the start, never noise."""


@cli.command("video")
@click.argument("input", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Output .mp4. Default: INPUT-dream.mp4.")
@click.option("--flow/--no-flow", default=True, help="Carry the dream along the optical flow.  [default: on]")
@option_flags(VIDEO_OPTIONS)
@resume_options
@cluster_options
@dreaming_options(without=NOT_FOR_VIDEO)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or notices.")
def video_command(
    input: Path,
    output: Path | None,
    flow: bool,
    cluster: str | None,
    threads: int | None,
    work_dir: Path | None,
    restart: bool,
    keep_frames: bool,
    from_image: Path | None,
    guide: Path | None,
    mask: Path | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Dream every frame of the video INPUT into an MP4, keeping its timing and sound.

    The dream of each frame is carried onto the next along the optical flow, so it sticks to
    moving things. Finished frames are kept in a work directory: after a crash or Ctrl-C,
    the same command goes on from the last finished frame. With --cluster the clip is cut
    into segments (--segments seconds each) dreamed in parallel, faded into each other over
    --overlap frames; the same --segments in this process gives the same frames.

    \b
    Examples:
        inceptionism video clip.mp4 -o dream.mp4
        inceptionism video clip.mp4 -o part.mp4 --start 5 --end 9 --octaves 3 --steps 5
        inceptionism video clip.mp4 -o plain.mp4 --no-flow --layer fire5
        inceptionism video film.mp4 -o dream.mp4 --cluster local:2
        inceptionism video film.mp4 -o dream.mp4 --cluster tcp://10.0.0.5:8786 --segments 4
    """
    show_notices(quiet)
    chosen = {name: options.pop(name) for name in VIDEO_OPTIONS}
    settings = dream_settings(from_image, options, guide=guide, mask=mask)
    output = output or unused_path(input.with_name(f"{input.stem}-dream.mp4"))
    net = settings_network(settings, progress=not quiet)
    result = run_render(
        lambda callback: video(
            input, output, settings=settings, model=net, guide=guide, mask=mask, flow=flow,
            work_dir=work_dir, restart=restart, keep_frames=keep_frames, cluster=cluster, threads=threads,
            callback=callback, reads={"--from image": from_image}, **chosen,
        ),
        kept=work_dir_for(output, work_dir), total=None, quiet=quiet,
    )  # fmt: skip
    click.echo(f"wrote {result.output} ({result.frames} frames, seed {result.params['dream']['seed']})")
