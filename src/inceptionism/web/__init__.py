"""The web studio: a local page to dream in, on a job API (``inceptionism serve``; the ``[web]`` extra)."""
