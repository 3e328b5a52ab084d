"""Portal texts: what the operator wrote for a point or for every point, else what Cautiva ships.

A text is looked up for one key and language: the point's own text, then the text for every
point, then the shipped default. Bodies are plain text the portal escapes when rendering; a
message may name a short video file in the portal's media folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.content.defaults import DEFAULT_LANGUAGE, DEFAULT_TEXTS, LANGUAGES
from cautiva.content.repository import PortalTextRepository
from cautiva.errors import InvalidInput
from cautiva.models import Point, PortalText, TextKey, utcnow

MAX_BODY_LENGTH = 4000
VIDEO_EXTENSIONS = (".mp4", ".webm")
# A bare file name: no folders, no leading dot, nothing a browser or a shell reads specially.
_VIDEO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# Line breaks and tabs are text; other control characters (NUL breaks PostgreSQL) are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

TextSource = Literal["point", "global", "default"]


@dataclass(frozen=True, slots=True)
class PortalTextView:
    """The text a portal shows, in the language of `body`, and where it came from."""

    key: str
    lang: str
    body: str
    video: str | None
    source: TextSource


@dataclass(frozen=True, slots=True)
class StoredPortalText:
    """A text an operator stored; `point_id` None means every point."""

    key: str
    lang: str
    point_id: int | None
    point_nas_id: str | None
    body: str
    video: str | None
    updated_at: datetime


def check_key(key: str) -> TextKey:
    """Return `key` as a TextKey, else raise InvalidInput."""
    try:
        return TextKey(key)
    except ValueError:
        known = ", ".join(k.value for k in TextKey)
        raise InvalidInput(f"unknown portal text {key!r}: use one of {known}") from None


def check_language(lang: str) -> str:
    """Return `lang` if portal texts can be written in it, else raise InvalidInput."""
    if lang not in LANGUAGES:
        raise InvalidInput(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return lang


def check_body(body: str) -> str:
    """Return `body` with its line ends normalised and its ends trimmed, else raise InvalidInput."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidInput("text must not be empty")
    if len(text) > MAX_BODY_LENGTH:
        raise InvalidInput(
            f"text is {len(text)} characters long: keep it to at most {MAX_BODY_LENGTH}"
        )
    if _CONTROL.search(text):
        raise InvalidInput("text must not contain control characters (only line breaks and tabs)")
    return text


def check_video(key: TextKey, video: str | None) -> str | None:
    """Return the video file name if it is a plain .mp4 or .webm name for a message."""
    if video is None:
        return None
    if key is not TextKey.MESSAGE:
        raise InvalidInput(f"only the message can have a video, not the {key.value} text")
    if not _VIDEO_NAME.fullmatch(video) or not video.lower().endswith(VIDEO_EXTENSIONS):
        raise InvalidInput(
            f"video must be a file name in the media folder, letters, digits, '.', '_' or '-' "
            f"only, ending in .mp4 or .webm: {video!r}"
        )
    return video


def _base_language(lang: str, default_language: str) -> str:
    # "fr-CA", "ES" and the like from a browser: keep the base code when it is one we write in.
    base = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    if base in LANGUAGES:
        return base
    return default_language if default_language in LANGUAGES else DEFAULT_LANGUAGE


async def portal_text(
    session: AsyncSession,
    *,
    key: str,
    lang: str,
    point: Point | None,
    default_language: str = DEFAULT_LANGUAGE,
) -> PortalTextView:
    """Return the text to show: the point's own, else every point's, else the shipped one.

    A language portal texts are not written in resolves as `default_language`, so an operator's
    text in that language still wins over the shipped one. `point` None asks what points without
    a text of their own show.
    """
    text_key = check_key(key)
    language = _base_language(lang, default_language)
    rows = await PortalTextRepository(session).candidates(
        key=text_key.value, lang=language, point_id=None if point is None else point.id
    )
    by_scope = {row.point_id: row for row in rows}
    if point is not None and point.id in by_scope:
        row = by_scope[point.id]
        return PortalTextView(text_key.value, language, row.body, row.video, "point")
    if None in by_scope:
        row = by_scope[None]
        return PortalTextView(text_key.value, language, row.body, row.video, "global")
    return PortalTextView(
        text_key.value, language, DEFAULT_TEXTS[text_key.value][language], None, "default"
    )


async def set_portal_text(
    session: AsyncSession,
    *,
    key: str,
    lang: str,
    body: str,
    point: Point | None,
    video: str | None,
) -> None:
    """Store the text for one language at `point` (None: every point), replacing any before."""
    text_key = check_key(key)
    language = check_language(lang)
    text = check_body(body)
    video_name = check_video(text_key, video)
    point_id = None if point is None else point.id
    repository = PortalTextRepository(session)
    # Looked up rather than upserted: NULL point_ids never conflict in a unique constraint.
    row = await repository.get(key=text_key.value, lang=language, point_id=point_id)
    if row is None:
        await repository.add(
            PortalText(
                key=text_key.value,
                lang=language,
                point_id=point_id,
                body=text,
                video=video_name,
                updated_at=utcnow(),
            )
        )
        return
    row.body = text
    row.video = video_name
    row.updated_at = utcnow()
    await session.flush()


async def list_portal_texts(session: AsyncSession) -> list[StoredPortalText]:
    """Return every text operators stored, by key and language, texts for every point first."""
    return [
        StoredPortalText(
            key=row.key,
            lang=row.lang,
            point_id=row.point_id,
            point_nas_id=nas_id,
            body=row.body,
            video=row.video,
            updated_at=row.updated_at,
        )
        for row, nas_id in await PortalTextRepository(session).list()
    ]
