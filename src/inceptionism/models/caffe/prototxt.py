"""A reader of protobuf text format, the language of Caffe's ``deploy.prototxt``.

A message becomes a dict from field name to the list of its values, in file order: a
nested message is a dict, a quoted string a ``str``, a number an ``int`` or ``float``,
``true``/``false`` a ``bool`` and an enum value (``MAX``) its name as a ``str``.

>>> parse_prototxt('layer { name: "pool1" pooling_param { pool: MAX kernel_size: 3 } }')
{'layer': [{'name': ['pool1'], 'pooling_param': [{'pool': ['MAX'], 'kernel_size': [3]}]}]}
"""

from __future__ import annotations

import re
from typing import Any

from inceptionism.errors import InvalidParameterError

Message = dict[str, list[Any]]
_TOKEN = re.compile(
    r"""\s+|\#[^\n]*|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[fF]?(?![\w.]))"""
    r"""|(?P<word>[-+]?[A-Za-z_][\w.]*)|(?P<symbol>[{}<>:\[\],;])"""
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
_CLOSE = {"{": "}", "<": ">"}


class _Tokens:
    def __init__(self, text: str, source: str) -> None:
        self.items: list[tuple[str, str, int]] = []
        self.source = source
        line, at = 1, 0
        while at < len(text):
            match = _TOKEN.match(text, at)
            if match is None:
                raise self.error(f"unexpected character {text[at]!r}", line)
            kind = match.lastgroup
            if kind:
                self.items.append((kind, match.group(), line))
            line += match.group().count("\n")
            at = match.end()
        self.position = 0

    def error(self, message: str, line: int | None = None) -> InvalidParameterError:
        if line is None:
            line = self.items[min(self.position, len(self.items) - 1)][2] if self.items else 1
        return InvalidParameterError(f"{self.source}:{line}: {message}", argument="model")

    def peek(self) -> tuple[str, str, int] | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def next(self, what: str) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise self.error(f"expected {what}, got the end of the file")
        self.position += 1
        return token

    def take(self, symbol: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "symbol" and token[1] == symbol:
            self.position += 1
            return True
        return False


def _unquote(text: str) -> str:
    body, out, at = text[1:-1], [], 0
    while at < len(body):
        char = body[at]
        if char == "\\" and at + 1 < len(body):
            out.append(_ESCAPES.get(body[at + 1], body[at + 1]))
            at += 2
        else:
            out.append(char)
            at += 1
    return "".join(out)


def _scalar(tokens: _Tokens) -> Any:
    kind, text, _ = tokens.next("a value")
    if kind == "string":
        value = _unquote(text)
        while (following := tokens.peek()) is not None and following[0] == "string":  # "a" "b" is "ab"
            value += _unquote(tokens.next("a string")[1])
        return value
    if kind == "number":
        text = text.rstrip("fF")
        return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
    if kind == "word":
        lowered = text.lower()
        if lowered in ("true", "t"):
            return True
        if lowered in ("false", "f"):
            return False
        if lowered.lstrip("+-") in ("inf", "infinity", "nan"):
            return float(lowered)
        return text
    raise tokens.error(f"expected a value, got {text!r}")


def _message(tokens: _Tokens, close: str | None) -> Message:
    message: Message = {}
    while True:
        token = tokens.peek()
        if token is None:
            if close is not None:
                raise tokens.error(f"expected {close!r}, got the end of the file")
            return message
        if token[0] == "symbol" and token[1] == close:
            tokens.position += 1
            return message
        kind, name, _ = tokens.next("a field name")
        if kind != "word":
            raise tokens.error(f"expected a field name, got {name!r}")
        colon = tokens.take(":")
        values = message.setdefault(name, [])
        opening = tokens.peek()
        if opening is not None and opening[0] == "symbol" and opening[1] in _CLOSE:
            tokens.position += 1
            values.append(_message(tokens, _CLOSE[opening[1]]))
        elif colon and tokens.take("["):
            while not tokens.take("]"):
                values.append(_scalar(tokens))
                tokens.take(",")
        elif colon:
            values.append(_scalar(tokens))
        else:
            raise tokens.error(f"expected ':' or '{{' after {name}")
        tokens.take(",") or tokens.take(";")


def parse_prototxt(text: str, *, source: str = "prototxt") -> Message:
    """Parse protobuf text format into nested dicts of lists.

    Args:
        text: the file's text.
        source: its name, for error messages.

    Raises:
        InvalidParameterError: one line with the file, line number and what was expected.
    """
    return _message(_Tokens(text, source), None)
