"""Large images the studio decodes, each in a block of its own that is given back to the system when freed.

glibc keeps freed blocks for reuse, in one pool (arena) per thread that allocated them. The
server checks uploads on many threads, so a large image decoded on one stays in that thread's
pool once freed, and the next lands in another's: eight 40 MP uploads at once left hundreds
of megabytes held. Two things give it back: a large image is decoded into one block of its
own, which glibc maps apart and unmaps when it is freed (Pillow's default, 16 MB blocks, comes
from the pools once ``inceptionism serve`` has raised glibc's mapping threshold to 32 MB);
and whatever else was freed is handed back when a job or an upload check ends
(:func:`~inceptionism.engine.runtime.give_back_freed_memory`).
"""

from __future__ import annotations

from PIL import Image

IMAGE_BLOCK = 1 << 30
"""Pillow's largest block of image memory here: any image the studio takes fits in one."""


def decode_large_images_apart() -> None:
    """Have Pillow hold each image in one block, so a large one is mapped on its own and unmapped when freed.

    It applies to this whole process (the studio's own); calling it again changes nothing.
    """
    if Image.core.get_block_size() < IMAGE_BLOCK:
        Image.core.set_block_size(IMAGE_BLOCK)
