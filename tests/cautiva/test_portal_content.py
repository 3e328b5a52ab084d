"""Portal texts on the real database: fallback order, overrides, validation, and `cautiva text`."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.content.defaults import DEFAULT_TEXTS, LANGUAGES
from cautiva.content.service import (
    MAX_BODY_LENGTH,
    PortalTextView,
    check_body,
    list_portal_texts,
    portal_text,
    set_portal_text,
)
from cautiva.credentials import new_secret
from cautiva.errors import InvalidInput
from cautiva.models import NasType, Point, PortalText, TextKey, utcnow
from cautiva.points.service import NewPoint, add_point
from cautiva.runtime import Runtime
from radius_harness import CAUTIVA


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back, so texts for every point never leak between tests."""
    async with runtime.sessions() as db, db.begin() as outer:
        # Start from the shipped texts whatever other tests left behind.
        await db.execute(delete(PortalText).where(PortalText.point_id.is_(None)))
        yield db
        await outer.rollback()


async def new_point(db: AsyncSession) -> Point:
    """A point made in the test's own session (another session could not write beside it)."""
    return await add_point(
        db,
        new=NewPoint(
            name="Test point",
            nas_id=f"nas-{uuid.uuid4().hex[:10]}",
            nas_type=NasType.MIKROTIK,
            secret=new_secret(24),
        ),
    )


async def put(
    db: AsyncSession,
    key: str,
    lang: str,
    body: str,
    point: Point | None = None,
    video: str | None = None,
) -> None:
    await set_portal_text(db, key=key, lang=lang, body=body, point=point, video=video)


def test_defaults_exist_for_both_keys_in_all_four_languages() -> None:
    assert set(DEFAULT_TEXTS) == {k.value for k in TextKey}
    assert LANGUAGES == ("es", "en", "fr", "ht")
    for key, texts in DEFAULT_TEXTS.items():
        assert set(texts) == set(LANGUAGES), key
        for lang, body in texts.items():
            # Shipped texts pass the rules operators' texts do, and are short.
            assert check_body(body) == body, (key, lang)
            assert len(body) < 1000, (key, lang)
            assert "\n\n\n" not in body and "  " not in body, (key, lang)
        # Translated, not copied.
        assert len(set(texts.values())) == len(LANGUAGES), key
    assert "18" in DEFAULT_TEXTS["terms"]["ht"]


async def test_fallback_order(session: AsyncSession) -> None:
    here = await new_point(session)
    elsewhere = await new_point(session)

    shipped = await portal_text(session, key="message", lang="fr", point=here)
    assert shipped == PortalTextView(
        "message", "fr", DEFAULT_TEXTS["message"]["fr"], None, "default"
    )

    await put(session, "message", "fr", "Pour tous les points.", video="prevention.mp4")
    for point in (here, elsewhere, None):
        every = await portal_text(session, key="message", lang="fr", point=point)
        assert (every.body, every.video, every.source) == (
            "Pour tous les points.",
            "prevention.mp4",
            "global",
        )

    await put(session, "message", "fr", "Seulement ici.", point=here)
    own = await portal_text(session, key="message", lang="fr", point=here)
    assert (own.body, own.video, own.source) == ("Seulement ici.", None, "point")
    other = await portal_text(session, key="message", lang="fr", point=elsewhere)
    assert (other.body, other.source) == ("Pour tous les points.", "global")

    # Other languages and the other key are untouched.
    english = await portal_text(session, key="message", lang="en", point=here)
    assert (english.body, english.source) == (DEFAULT_TEXTS["message"]["en"], "default")
    terms = await portal_text(session, key="terms", lang="fr", point=here)
    assert (terms.body, terms.source) == (DEFAULT_TEXTS["terms"]["fr"], "default")


async def test_languages_without_texts_fall_back_to_the_default_language(
    session: AsyncSession,
) -> None:
    point = await new_point(session)
    spanish = await portal_text(session, key="terms", lang="pt", point=point)
    assert (spanish.lang, spanish.body, spanish.source) == (
        "es",
        DEFAULT_TEXTS["terms"]["es"],
        "default",
    )
    english = await portal_text(session, key="terms", lang="pt", point=point, default_language="en")
    assert (english.lang, english.body) == ("en", DEFAULT_TEXTS["terms"]["en"])
    # A browser's regional code finds its language.
    canadian = await portal_text(session, key="terms", lang="fr-CA", point=point)
    assert canadian.lang == "fr"
    # The operator's text in the default language wins over the shipped one.
    await put(session, "terms", "es", "Condiciones de esta red.")
    operators = await portal_text(session, key="terms", lang="pt", point=point)
    assert (operators.lang, operators.body, operators.source) == (
        "es",
        "Condiciones de esta red.",
        "global",
    )
    with pytest.raises(InvalidInput, match="unknown portal text 'faq'"):
        await portal_text(session, key="faq", lang="es", point=point)


async def test_setting_again_replaces_the_text(session: AsyncSession) -> None:
    point = await new_point(session)
    await put(session, "message", "ht", "Premye.", video="premye.webm")
    await put(session, "message", "ht", "  Dezyèm.\r\n\r\nPi lwen.\r\n  ")
    await put(session, "message", "ht", "Pou pwen sa a.", point=point, video="pwen.mp4")
    await put(session, "message", "ht", "Pou pwen sa a ankò.", point=point, video="pwen.mp4")
    rows = (
        await session.execute(
            select(PortalText).where(PortalText.key == "message", PortalText.lang == "ht")
        )
    ).scalars()
    stored = {row.point_id: (row.body, row.video) for row in rows}
    assert stored[None] == ("Dezyèm.\n\nPi lwen.", None)
    assert stored[point.id] == ("Pou pwen sa a ankò.", "pwen.mp4")


async def test_one_text_for_every_point_per_key_and_language_in_the_database(
    session: AsyncSession,
) -> None:
    def row() -> PortalText:
        return PortalText(key="terms", lang="en", point_id=None, body="x", updated_at=utcnow())

    session.add(row())
    await session.flush()
    async with session.begin_nested():
        session.add(row())
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_list_portal_texts(session: AsyncSession) -> None:
    point = await new_point(session)
    await put(session, "terms", "es", "Texto del punto.", point=point)
    await put(session, "terms", "es", "Texto de todos.")
    await put(session, "message", "en", "Message.", video="clip.mp4")
    listed = [t for t in await list_portal_texts(session) if t.point_id in (None, point.id)]
    assert [(t.key, t.lang, t.point_nas_id, t.body, t.video) for t in listed] == [
        ("message", "en", None, "Message.", "clip.mp4"),
        ("terms", "es", None, "Texto de todos.", None),
        ("terms", "es", point.nas_id, "Texto del punto.", None),
    ]
    assert all(t.updated_at.tzinfo is not None for t in listed)


async def test_texts_go_with_their_point(session: AsyncSession) -> None:
    point = await new_point(session)
    await put(session, "terms", "fr", "Ici seulement.", point=point)
    await session.execute(delete(Point).where(Point.id == point.id))
    remaining = await session.execute(select(PortalText).where(PortalText.point_id == point.id))
    assert remaining.first() is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": "faq"}, "unknown portal text 'faq'"),
        ({"lang": "pt"}, "unknown language 'pt'"),
        ({"lang": "ES"}, "unknown language 'ES'"),
        ({"body": " \n\t\n "}, "text must not be empty"),
        ({"body": "x" * (MAX_BODY_LENGTH + 1)}, f"at most {MAX_BODY_LENGTH}"),
        ({"body": "a\x00b"}, "control characters"),
        ({"key": "terms", "video": "clip.mp4"}, "only the message can have a video"),
        ({"video": "../clip.mp4"}, "video must be a file name"),
        ({"video": "media/clip.mp4"}, "video must be a file name"),
        ({"video": "clip.avi"}, "ending in .mp4 or .webm"),
        ({"video": "my clip.mp4"}, "video must be a file name"),
        ({"video": ".mp4"}, "video must be a file name"),
        ({"video": "https://example.org/clip.mp4"}, "video must be a file name"),
        ({"video": "a" * 200 + ".mp4"}, "video must be a file name"),
        ({"video": ""}, "video must be a file name"),
    ],
)
async def test_invalid_texts_are_refused(
    session: AsyncSession, changes: dict[str, Any], message: str
) -> None:
    point = await new_point(session)
    arguments: dict[str, Any] = {
        "key": "message",
        "lang": "es",
        "body": "Cuide sus documentos.",
        "point": point,
        "video": None,
        **changes,
    }
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.").replace("(", r"\(")):
        await set_portal_text(session, **arguments)
    stored = await session.execute(select(PortalText).where(PortalText.point_id == point.id))
    assert stored.first() is None


async def test_the_longest_text_and_plain_video_names_are_accepted(
    session: AsyncSession,
) -> None:
    point = await new_point(session)
    for video in ("a.mp4", "Prevencion_2026-v2.WEBM", "x" * 195 + ".webm"):
        await put(session, "message", "es", "y" * MAX_BODY_LENGTH, point=point, video=video)
        shown = await portal_text(session, key="message", lang="es", point=point)
        assert (len(shown.body), shown.video) == (MAX_BODY_LENGTH, video)


# `cautiva text` as an operator uses it, on a fresh SQLite database of its own.


def cli(
    env: dict[str, str], command: str, *extra: str, code: int = 0
) -> subprocess.CompletedProcess[str]:
    """Run `cautiva COMMAND EXTRA...` (COMMAND split as a shell would) and check the exit code."""
    completed = subprocess.run(
        [CAUTIVA, *shlex.split(command), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == code, completed.stderr
    return completed


def cli_json(env: dict[str, str], command: str, *extra: str) -> Any:
    return json.loads(cli(env, command, *extra, "--json").stdout)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """An environment on a fresh, migrated SQLite database, whatever the suite's database is."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAUTIVA_")}
    env.update({"CAUTIVA_ENV": "development", "CAUTIVA_DATA_DIR": str(tmp_path / "var")})
    cli(env, "db upgrade")
    return env


@pytest.mark.sqlite
def test_cli_set_show_and_list(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    cli(sqlite_env, "point add --name T1 --nas-id terminal-1 --nas-type mikrotik")
    shipped = cli_json(sqlite_env, "text show terms --lang ht")
    assert shipped["source"] == "default" and shipped["point"] is None
    assert shipped["body"] == DEFAULT_TEXTS["terms"]["ht"]

    message = tmp_path / "message.txt"
    message.write_text("Gardez vos papiers.\r\n\r\nDemandez de l'aide.\n", encoding="utf-8")
    stored = cli_json(
        sqlite_env, "text set message --lang fr --video prevention.mp4 --file", str(message)
    )
    assert (stored["source"], stored["video"]) == ("global", "prevention.mp4")
    assert stored["body"] == "Gardez vos papiers.\n\nDemandez de l'aide."
    cli(sqlite_env, "text set message --lang fr --point terminal-1 --text 'Ici, au guichet.'")

    at_point = cli(sqlite_env, "text show message --lang fr --point terminal-1").stdout
    assert "source      point" in at_point and at_point.endswith("\n\nIci, au guichet.\n")
    every = cli_json(sqlite_env, "text show message --lang fr")
    assert (every["source"], every["body"]) == ("global", stored["body"])

    listed = cli_json(sqlite_env, "text list")
    assert [(t["key"], t["lang"], t["point"], t["video"]) for t in listed] == [
        ("message", "fr", None, "prevention.mp4"),
        ("message", "fr", "terminal-1", None),
    ]
    table = cli(sqlite_env, "text list").stdout.splitlines()
    assert table[0].split() == ["KEY", "LANG", "POINT", "VIDEO", "CHARACTERS", "UPDATED_AT"]
    assert table[1].split()[:3] == ["message", "fr", "(all)"]


@pytest.mark.sqlite
def test_cli_errors_are_one_line(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    video = cli(sqlite_env, "text set terms --lang es --text x --video a.mp4", code=1)
    assert video.stderr == (
        "cautiva: error: only the message can have a video, not the terms text\n"
    )
    nowhere = cli(sqlite_env, "text show terms --lang es --point nowhere", code=1)
    assert nowhere.stderr == "cautiva: error: no point with id or NAS-Identifier 'nowhere'\n"
    terms = tmp_path / "terms.txt"
    terms.write_text("Condiciones.", encoding="utf-8")
    both = cli(sqlite_env, "text set terms --lang es --text x --file", str(terms), code=2)
    assert both.stderr == "cautiva: error: give the text with exactly one of --file or --text\n"
    neither = cli(sqlite_env, "text set terms --lang es", code=2)
    assert neither.stderr == both.stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Condiciones de uso: año".encode("latin-1"))
    undecodable = cli(sqlite_env, "text set terms --lang es --file", str(latin1), code=1)
    assert undecodable.stderr == f"cautiva: error: {latin1}: not UTF-8 text\n"
    # Nothing was stored by the failed commands.
    assert cli_json(sqlite_env, "text list") == []
