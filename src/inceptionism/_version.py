"""The package version, in its own module so every layer can import it."""

__version__ = "0.2.0"
