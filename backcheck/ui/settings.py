"""Where the app keeps its history and which pose model it uses.

``streamlit run app.py -- --db PATH --model NAME`` or the environment variables
``BACKCHECK_DB`` and ``BACKCHECK_MODEL``; defaults: ~/.local/share/backcheck and ``full``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from backcheck.history import HistoryStore, default_db_path
from models.registry import MODE_DEFAULTS

MODEL_ENV = "BACKCHECK_MODEL"


@dataclass(frozen=True)
class Settings:
    db_path: Path
    model: str

    @classmethod
    def from_args(cls, argv: Sequence[str], env: Mapping[str, str]) -> Settings:
        """Command-line options win over the environment, which wins over the defaults."""
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--db", type=Path, default=None)
        parser.add_argument("--model", default=None)
        ns, _ = parser.parse_known_args(list(argv))
        db = ns.db or (Path(env["BACKCHECK_DB"]) if env.get("BACKCHECK_DB") else None)
        return cls(
            db_path=(db or default_db_path()).expanduser(),
            model=ns.model or env.get(MODEL_ENV) or MODE_DEFAULTS["upload"],
        )


def current(argv: Sequence[str]) -> Settings:
    """The settings for this run of the page."""
    return Settings.from_args(argv, os.environ)


@st.cache_resource(show_spinner=False)
def open_store(db_path: str) -> HistoryStore:
    """One store per database file for the server's life; leftovers swept on first open."""
    store = HistoryStore(db_path)
    store.sweep()
    return store
