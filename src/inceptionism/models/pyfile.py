"""A network made by your own Python code: ``--model PATH.py:FUNCTION``.

The file is run as a module (it may import torch, build the layers, read its weights) and
``FUNCTION()`` must return an ``nn.Module`` taking ``(B, 3, H, W)`` images. This runs the
file's code with your rights, as ``python PATH.py`` would: the command line says so in its
help, and the studio never takes such a model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys

from torch import nn

from inceptionism.errors import InvalidParameterError

PATTERN = re.compile(r"(?P<path>.+\.py):(?P<function>[A-Za-z_]\w*)")
"""``PATH.py:FUNCTION``."""


def is_python_model(name: str) -> bool:
    """Whether the model name is ``PATH.py:FUNCTION``.

    >>> is_python_model("nets/vgg.py:make"), is_python_model("vgg.py"), is_python_model("squeezenet1_1")
    (True, False, False)
    """
    return PATTERN.fullmatch(name) is not None


def python_file(name: str) -> str:
    """The file of ``PATH.py:FUNCTION``."""
    return PATTERN.fullmatch(name).group("path")  # type: ignore[union-attr]


def python_module(name: str) -> nn.Module:
    """Run the file of ``PATH.py:FUNCTION`` and return what ``FUNCTION()`` makes.

    Raises:
        InvalidParameterError: the file is missing, fails, lacks the function, or it returns no module.
    """
    match = PATTERN.fullmatch(name)
    if match is None:
        raise InvalidParameterError(f"{name} is not PATH.py:FUNCTION", argument="model")
    path, function = match["path"], match["function"]
    if not os.path.isfile(path):
        raise InvalidParameterError(f"model file not found: {path}", argument="model")
    digest = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(f"inceptionism_user_model_{digest}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # dataclasses and pickling look it up
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as error:
        raise InvalidParameterError(
            f"{path} failed to run: {type(error).__name__}: {error}", argument="model"
        ) from None
    make = getattr(module, function, None)
    if not callable(make):
        raise InvalidParameterError(f"{path} has no function {function}", argument="model")
    try:
        body = make()
    except Exception as error:
        raise InvalidParameterError(f"{function}() in {path} failed: {type(error).__name__}: {error}",
                                    argument="model") from None  # fmt: skip
    if not isinstance(body, nn.Module):
        raise InvalidParameterError(f"{function}() in {path} returned a {type(body).__name__}, not a torch nn.Module",
                                    argument="model")  # fmt: skip
    return body
