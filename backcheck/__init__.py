"""backcheck: form feedback for hip hinges and planks from video."""

__version__ = "0.1.0"
