"""Counters of what the RADIUS server received, answered and dropped."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path


class Stats:
    """Named counters; drops are counted by reason so operators can see attacks and misconfigs."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()

    def count(self, name: str, amount: int = 1) -> None:
        """Add `amount` to counter `name`."""
        self.counters[name] += amount

    def snapshot(self) -> dict[str, int]:
        """Return a copy of all counters."""
        return dict(sorted(self.counters.items()))

    def write(self, path: Path) -> None:
        """Write the counters as JSON, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.snapshot(), indent=1))
        os.replace(temporary, path)
