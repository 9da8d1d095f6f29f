"""The ``inceptionism`` command group: errors turned into one line and an exit code, notices on stderr."""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

import click
from tqdm.auto import tqdm

from inceptionism._version import __version__
from inceptionism.classify import CLASSIFY_OPTIONS
from inceptionism.engine.options import OPTIONS
from inceptionism.engine.runtime import keep_freed_memory
from inceptionism.errors import InceptionismError
from inceptionism.render.atlas import ATLAS_OPTIONS
from inceptionism.render.batch import BATCH_OPTIONS
from inceptionism.render.videoplan import VIDEO_OPTIONS
from inceptionism.render.zoom import ZOOM_OPTIONS
from inceptionism.training.options import TRAIN_OPTIONS
from inceptionism.web.options import SERVE_OPTIONS

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
TABLES = (OPTIONS, ZOOM_OPTIONS, VIDEO_OPTIONS, ATLAS_OPTIONS, BATCH_OPTIONS, SERVE_OPTIONS, CLASSIFY_OPTIONS,
          TRAIN_OPTIONS)  # fmt: skip
"""Every table of options a command takes flags from."""
FLAGS = {name: option.flag for table in TABLES for name, option in table.items()}
FLAGS.update(guide="--guide", mask="--mask", work_dir="--work-dir", restart="--restart", sweep="--sweep",
             channels="--channels", record="--record", **{"from": "--from"})  # fmt: skip
"""The flag of each library argument, named in error messages."""


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def with_flag(error: InceptionismError) -> str:
    """The library's message, with the flag of the argument it names (``(--octave-scale)``).

    >>> from inceptionism.errors import InvalidParameterError
    >>> with_flag(InvalidParameterError("octave_scale must be > 1.0, got 0.8", argument="octave_scale"))
    'octave_scale must be > 1.0, got 0.8 (--octave-scale)'
    """
    message, flag = str(error), FLAGS.get(error.argument or "")
    return f"{message} ({flag})" if flag and flag not in message else message


class _Group(click.Group):
    """Turns every expected failure into one line on stderr and a non-zero exit, no traceback."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "inceptionism"
            fail(f"{error.format_message()} (see: {command} --help)", error.exit_code)
        except click.ClickException as error:
            fail(error.format_message(), error.exit_code)
        except InceptionismError as error:
            fail(with_flag(error))
        except (click.Abort, KeyboardInterrupt):
            fail("interrupted; nothing was written", EXIT_INTERRUPTED)
        sys.exit(code or 0)


class _NoticeHandler(logging.Handler):
    """Shows the library's INFO records (scaling, downloads) as notices on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(f"notice: {record.getMessage()}", file=sys.stderr)


def show_notices(quiet: bool) -> None:
    """Print the library's notices on stderr, unless ``quiet``."""
    logger = logging.getLogger("inceptionism")
    logger.handlers = [handler for handler in logger.handlers if not isinstance(handler, _NoticeHandler)]
    if not quiet:
        logger.addHandler(_NoticeHandler())
        logger.setLevel(logging.INFO)


@click.group("inceptionism", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="inceptionism")
def cli() -> None:
    """DeepDream images from the command line.

    \b
    Example:
        inceptionism dream photo.jpg -o dream.png --layer fire7
    """
    keep_freed_memory()  # this process is ours: let the allocator keep freed activations
