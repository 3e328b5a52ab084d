"""The project's RADIUS dictionary: RFC attributes and the MikroTik, WISPr and ChilliSpot
vendor sets."""

from __future__ import annotations

import functools
from pathlib import Path

from pyrad.dictionary import Dictionary

DICTIONARY_DIR: Path = Path(__file__).parent / "dictionaries"
"""Directory of the dictionary files; its file ``dictionary`` ``$INCLUDE``s the others."""

TOP_DICTIONARY: Path = DICTIONARY_DIR / "dictionary"
"""The file that is loaded; pyrad resolves its ``$INCLUDE``s relative to this directory."""


@functools.cache
def load_dictionary() -> Dictionary:
    """Load the project's dictionary files (once per process; cache with functools.cache).

    The returned dictionary is shared by every caller: treat it as read-only.
    """
    # pyrad takes a path only as str: any other object is read as an open file.
    return Dictionary(str(TOP_DICTIONARY))
