"""Renderers: thin users of the engine that turn frames into results (a still image today)."""

from inceptionism.render.still import DreamResult, dream

__all__ = ["DreamResult", "dream"]
