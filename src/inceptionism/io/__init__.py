"""Reading and writing: images with their parameters (``images``), files written atomically (``files``)."""
