"""Videos and their poster frames for the risk-prevention message, kept in the media folder.

Files get random names (the name the technician's phone gave is never used on disk), and
their first bytes must look like what the extension says.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cautiva.errors import InvalidInput

VIDEO_TYPES = {".mp4": (b"ftyp", 4), ".webm": (b"\x1a\x45\xdf\xa3", 0)}
POSTER_TYPES = {
    ".jpg": (b"\xff\xd8\xff", 0),
    ".png": (b"\x89PNG\r\n\x1a\n", 0),
    ".webp": (b"WEBP", 8),
}
MAX_POSTER_BYTES = 512 * 1024


def media_folder(data_dir: Path) -> Path:
    """Where uploaded media live (served by the portal under /media/)."""
    return Path(data_dir) / "media"


def _kind(filename: str, data: bytes, types: dict[str, tuple[bytes, int]], what: str) -> str:
    suffix = Path(filename).suffix.lower()
    suffix = ".jpg" if suffix == ".jpeg" else suffix
    if suffix not in types:
        raise InvalidInput(f"a {what} must be one of {', '.join(sorted(types))}: {filename!r}")
    magic, offset = types[suffix]
    if data[offset : offset + len(magic)] != magic:
        raise InvalidInput(f"{filename!r} is not a {suffix[1:]} file")
    return suffix


def _write(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}.part"
    temporary.write_bytes(data)
    os.replace(temporary, folder / name)


def store_video(
    data_dir: Path, *, filename: str, data: bytes, max_bytes: int, poster: tuple[str, bytes] | None
) -> str:
    """Check and keep an uploaded video (and its poster frame); return the video's file name."""
    if not data:
        raise InvalidInput("the video file is empty")
    if len(data) > max_bytes:
        raise InvalidInput(f"the video is larger than {max_bytes // (1024 * 1024)} MB")
    suffix = _kind(filename, data, VIDEO_TYPES, "video")
    poster_suffix = None
    if poster is not None:
        if len(poster[1]) > MAX_POSTER_BYTES:
            raise InvalidInput("the poster image is larger than 512 KB")
        poster_suffix = _kind(poster[0], poster[1], POSTER_TYPES, "poster image")
    stem = f"msg-{secrets.token_hex(8)}"
    folder = media_folder(data_dir)
    if poster is not None and poster_suffix is not None:
        _write(folder, stem + poster_suffix, poster[1])
    _write(folder, stem + suffix, data)
    return stem + suffix


def poster_of(data_dir: Path, video: str) -> str | None:
    """The poster frame's file name kept beside `video`, if there is one."""
    stem = Path(video).stem
    for suffix in POSTER_TYPES:
        if (media_folder(data_dir) / (stem + suffix)).is_file():
            return stem + suffix
    return None
