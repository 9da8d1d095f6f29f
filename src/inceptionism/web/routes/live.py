"""``/api/live``: the WebSocket of a live session (the protocol is in the README's Live section).

The client sends frames (binary: a 4-byte big-endian id, then a JPEG, PNG or WebP) and
commands (JSON text: ``settings``, ``snapshot``, ``record``); the server answers each frame it
dreams with a ``dreamed`` message and the dream (binary: the same id, then a JPEG). Frames
that come while one is dreamed replace each other: only the newest is dreamed. A session
takes one of the studio's workers; it ends when its socket closes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import threading
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from inceptionism.errors import InceptionismError, InvalidParameterError
from inceptionism.render.live import LIVE_OPTIONS
from inceptionism.web.livekeep import Keeper
from inceptionism.web.livesession import FRAME_BYTES, FRAME_ID_BYTES, Choice, LiveSession, read_frame
from inceptionism.web.params import dream_settings, prepare_live
from inceptionism.web.schemas import JobOut
from inceptionism.web.security import socket_refusal
from inceptionism.web.store import Job
from inceptionism.web.studio import Studio
from inceptionism.web.workers import NoWorker

logger = logging.getLogger(__name__)
router = APIRouter()
COMMAND_BYTES = 64 * 1024  # a settings message fits in far less
OUTBOX = 4
"""Messages waiting to be sent beyond which the oldest dream is dropped (a client reading slowly)."""
OUTBOX_MESSAGES = 64
BUSY = 1013  # WebSocket close code "try again later": another session, or every worker dreams a job
POLICY = 1008  # WebSocket close code "policy violation": live cannot run in this studio
REASON_BYTES = 123  # what a close frame's reason holds


class LiveDoor:
    """Live sessions at once, up to the studio's ``live_sessions``, each with a worker of the pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0
        self.sessions: set[LiveSession] = set()  # those dreaming now

    def enter(self, studio: Studio) -> None:
        """Let one more session in, or raise :class:`NoWorker` saying why not."""
        limit = studio.settings.live_sessions
        with self._lock:
            if self.open >= limit:
                running = f"{self.open} live session{'s are' if self.open > 1 else ' is'} running"
                raise NoWorker(f"{running} (at most {limit}); close it first, or serve with "
                               f"INCEPTIONISM_LIVE_SESSIONS={limit + 1}")  # fmt: skip
            studio.pool.lend()
            self.open += 1

    def leave(self, studio: Studio) -> None:
        """A session ended: its worker goes back to the jobs."""
        with self._lock:
            self.open -= 1
            studio.pool.take_back()


@router.websocket("/api/live")
async def live_socket(websocket: WebSocket) -> None:
    """A live session: frames in, dreams out, settings from the next frame on."""
    studio: Studio = websocket.app.state.studio
    refused = socket_refusal(websocket, loopback=studio.settings.loopback, token=studio.token)
    if refused is not None:
        await websocket.send_denial_response(refused)
        return
    await websocket.accept()
    door: LiveDoor = websocket.app.state.live_door
    if (reason := _cannot_run(studio)) is not None:
        await _refuse(websocket, reason, POLICY)
        return
    try:
        door.enter(studio)
    except NoWorker as error:
        await _refuse(websocket, str(error), BUSY)
        return
    try:
        choice = await run_in_threadpool(_choice, studio, {}, 1)
        await websocket.send_json(_ready(studio, choice))
        await _serve(websocket, studio, choice, door)
    except InceptionismError as error:  # the defaults cannot be dreamed here (a missing extra, weights)
        await _refuse(websocket, str(error), POLICY)
    except WebSocketDisconnect:
        pass  # gone before it began
    finally:
        door.leave(studio)


def _cannot_run(studio: Studio) -> str | None:
    """Why live cannot run in this studio at all (off, or the [video] extra missing), if it cannot."""
    if studio.settings.live_sessions == 0:
        return "live is off in this studio (serve with INCEPTIONISM_LIVE_SESSIONS=1)"
    for module in ("cv2", "av"):
        if importlib.util.find_spec(module) is None:
            return f"live needs the [video] extra ({module} is missing): pip install 'inceptionism[video]'"
    return None


async def _refuse(websocket: WebSocket, detail: str, code: int) -> None:
    """Say why in an ``error`` line, then close with ``code`` and the reason (cut to what a close frame holds)."""
    await websocket.send_json({"type": "error", "detail": detail})
    await websocket.close(code, reason=detail.encode()[:REASON_BYTES].decode(errors="ignore"))


async def _serve(websocket: WebSocket, studio: Studio, choice: Choice, door: LiveDoor) -> None:
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue[dict[str, Any] | bytes] = asyncio.Queue()
    keeper = Keeper(lambda job: _save(studio, job), studio.store.new_folder, max_frames=studio.settings.max_frames)
    session = LiveSession(lambda message: loop.call_soon_threadsafe(_put, outbox, message), keeper,
                          max_pixels=studio.settings.max_pixels)  # fmt: skip
    sender = asyncio.create_task(_send_all(websocket, outbox))
    session.start(choice)
    door.sessions.add(session)
    try:
        await _receive_all(websocket, studio, session, outbox)
    finally:
        try:
            await run_in_threadpool(session.close)
        finally:
            door.sessions.discard(session)
            sender.cancel()


async def _receive_all(websocket: WebSocket, studio: Studio, session: LiveSession, outbox: asyncio.Queue) -> None:
    """Read the socket until it closes: frames go to the session's slot, commands are answered."""
    version = 1
    while True:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return
        if message["type"] == "websocket.disconnect":
            return
        try:
            if message.get("bytes") is not None:
                session.slot.put(read_frame(message["bytes"]))
                continue
            command = _command(message.get("text") or "")
            if command["type"] == "settings":
                choice = await run_in_threadpool(_choice, studio, command.get("params", {}), version + 1)
                version = choice.version
                session.choose(choice)
                _put(outbox, {"type": "settings", "settings": version, "params": choice.params})
            else:
                _put(outbox, await run_in_threadpool(_do, session, command))
        except InceptionismError as error:
            _put(outbox, {"type": "error", "detail": str(error), "argument": getattr(error, "argument", None)})
        except Exception as error:  # a bug or the disk: this command failed, the session goes on
            logger.exception("a live command failed")
            _put(outbox, {"type": "error", "detail": f"internal error: {error}"})


def _command(text: str) -> dict[str, Any]:
    """A command message: a JSON object with a known ``type``.

    Raises:
        InvalidParameterError: too long, not JSON, or not a command.
    """
    if len(text) > COMMAND_BYTES:
        raise InvalidParameterError(f"a command is at most {COMMAND_BYTES // 1024} kB", argument="message")
    try:
        command = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidParameterError(f"a command is a JSON object: {error.msg} at character {error.pos}",
                                    argument="message") from None  # fmt: skip
    except RecursionError:
        raise InvalidParameterError("a command is nested too deep; send a JSON object", argument="message") from None
    kinds = ("settings", "snapshot", "record")
    if not isinstance(command, dict) or command.get("type") not in kinds:
        raise InvalidParameterError(f'a command is {{"type": ...}} with type {", ".join(kinds)}', argument="type")
    return command


def _do(session: LiveSession, command: dict[str, Any]) -> dict[str, Any]:
    if command["type"] == "snapshot":
        return session.snapshot()
    on = command.get("on")
    if not isinstance(on, bool):
        raise InvalidParameterError(f'record takes "on": true or false, got {on!r}', argument="on")
    return session.record(on)


def _choice(studio: Studio, params: Any, version: int) -> Choice:
    """The settings ``params`` ask for, checked as a job's (blocking: the network may be loaded)."""
    checked = prepare_live(params, catalog=studio.catalog, settings=studio.settings)
    settings = dream_settings(checked)
    blend = checked.get("blend", LIVE_OPTIONS["blend"].default)
    return Choice(checked, settings, studio.catalog.network(settings.model), blend, version)


def _ready(studio: Studio, choice: Choice) -> dict[str, Any]:
    return {
        "type": "ready", "settings": choice.version, "params": choice.params,
        "limits": {"frame_bytes": FRAME_BYTES, "frame_id_bytes": FRAME_ID_BYTES,
                   "max_pixels": studio.settings.max_pixels, "max_side": studio.settings.max_side,
                   "record_frames": studio.settings.max_frames},
    }  # fmt: skip


def _save(studio: Studio, job: Job) -> dict[str, Any]:
    return JobOut.of(studio.store.add(job)).model_dump()


def _put(outbox: asyncio.Queue, message: dict[str, Any] | bytes) -> None:
    """Queue ``message``; if dreams pile up (a slow reader), drop the oldest dream and its ``dreamed`` line.

    A client that never reads gets at most :data:`OUTBOX_MESSAGES` waiting: the oldest go.
    """
    outbox.put_nowait(message)
    while outbox.qsize() > OUTBOX_MESSAGES:
        outbox.get_nowait()
    if outbox.qsize() > OUTBOX:
        kept = [outbox.get_nowait() for _ in range(outbox.qsize())]
        first = next((i for i, item in enumerate(kept) if isinstance(item, bytes)), None)
        if first is not None:
            line = first > 0 and isinstance(kept[first - 1], dict) and kept[first - 1].get("type") == "dreamed"
            drop = {first, first - 1} if line else {first}
            kept = [item for i, item in enumerate(kept) if i not in drop]
        for item in kept:
            outbox.put_nowait(item)


async def _send_all(websocket: WebSocket, outbox: asyncio.Queue) -> None:
    while True:
        message = await outbox.get()
        try:
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_json(message)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the socket is gone: its reader ends the session
