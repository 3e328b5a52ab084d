"""Small-cell suppression: primary and complementary."""

from __future__ import annotations

from cautiva.analytics.suppression import footnote, is_small, suppress, suppress_one


def test_counts_under_the_threshold_are_hidden_and_zero_is_not() -> None:
    assert [is_small(n, 5) for n in (0, 1, 4, 5, 50)] == [False, True, True, False, False]
    assert suppress_one(3, 5) is None
    assert suppress_one(0, 5) == 0
    assert suppress_one(5, 5) == 5


def test_a_lone_hidden_cell_beside_a_total_takes_the_next_smallest_with_it() -> None:
    shown = suppress({"a": 2, "b": 7, "c": 30, "d": 0}, 5)
    assert shown == {"a": None, "b": None, "c": 30, "d": 0}


def test_two_hidden_cells_need_no_complement() -> None:
    assert suppress({"a": 2, "b": 3, "c": 30}, 5) == {"a": None, "b": None, "c": 30}


def test_without_a_total_only_small_cells_are_hidden() -> None:
    assert suppress({"a": 2, "b": 7}, 5, with_total=False) == {"a": None, "b": 7}


def test_threshold_one_hides_nothing() -> None:
    assert suppress({"a": 1, "b": 0}, 1) == {"a": 1, "b": 0}


def test_footnote_names_the_hidden_range() -> None:
    assert "1 to 4" in footnote(5)
