"""A contact sheet: tiles in a grid, each labelled under it (Pillow's own scalable font)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (18, 18, 22)
INK = (235, 235, 240)
GAP = 4


def _fitting_font(labels: Sequence[str], room: int) -> ImageFont.FreeTypeFont:
    """The largest font up to ``room / 8`` (at least 8 px) in which every label fits in ``room`` pixels."""
    size = max(8, room // 8)
    longest = max(labels, key=len)
    font = ImageFont.load_default(size=size)
    while size > 8 and font.getlength(longest) > room:
        size -= 1
        font = ImageFont.load_default(size=size)
    return font


def contact_sheet(tiles: Sequence[Image.Image], labels: Sequence[str], *, columns: int | None = None) -> Image.Image:
    """``tiles`` (one size) in a grid of ``columns`` (default: about square), ``labels[i]`` under tile ``i``.

    Labels too long for small tiles keep what follows their last ``:`` (``fire5:12`` -> ``12``).

    >>> sheet = contact_sheet([Image.new("RGB", (64, 64))] * 5, [f"c{i}" for i in range(5)])
    >>> sheet.size
    (208, 164)
    """
    if not tiles or len(tiles) != len(labels):
        raise ValueError("contact_sheet needs as many labels as tiles, and at least one tile")
    width, height = tiles[0].size
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    font = _fitting_font(labels, width - 2 * GAP)
    if font.getlength(max(labels, key=len)) > width - 2 * GAP:  # small tiles: the part after the last ":"
        labels = [label.rsplit(":", 1)[-1] for label in labels]
        font = _fitting_font(labels, width - 2 * GAP)
    band = math.ceil(font.size * 1.5)
    sheet = Image.new("RGB", (columns * (width + GAP) + GAP, rows * (height + band + GAP) + GAP), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for index, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        left = GAP + (index % columns) * (width + GAP)
        top = GAP + (index // columns) * (height + band + GAP)
        sheet.paste(tile.convert("RGB").resize((width, height)), (left, top))
        draw.text((left + width / 2, top + height + band / 2), label, fill=INK, font=font, anchor="mm")
    return sheet
