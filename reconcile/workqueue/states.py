"""Denial work states and the transitions allowed between them, read from ``data/denial_states.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATES_TABLE = Path(__file__).resolve().parent / "data" / "denial_states.toml"


@dataclass(frozen=True)
class StateTable:
    """States (key -> label, in workflow order), the initial state and the allowed moves."""

    initial: str
    labels: dict[str, str]
    transitions: dict[str, tuple[str, ...]]

    def allowed(self, current: str, new: str) -> bool:
        """Whether a denial in ``current`` may move to ``new``."""
        return new in self.transitions.get(current, ())

    def next_states(self, current: str) -> tuple[str, ...]:
        return self.transitions.get(current, ())


@lru_cache(maxsize=1)
def load_states(path: str = str(STATES_TABLE)) -> StateTable:
    """The state table (loaded once); a table naming an unknown state is a bug in shipped data."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    labels = {str(k): str(v) for k, v in data["states"].items()}
    transitions = {str(k): tuple(str(t) for t in v) for k, v in data["transitions"].items()}
    initial = str(data["initial"])
    named = {initial, *transitions, *(t for ts in transitions.values() for t in ts)}
    unknown = sorted(named - set(labels))
    if unknown:
        raise ValueError(f"denial state table names unknown states: {unknown}")
    return StateTable(initial, labels, transitions)
