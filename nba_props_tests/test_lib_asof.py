"""The one "strictly before" as-of join: a row never sees its own date, only earlier ones."""

from datetime import date

import polars as pl

from nba_props.lib.asof import join_strictly_before

D = [date(2025, 1, d) for d in range(1, 8)]


def _right() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "p": ["a", "a", "a", "b"],
            "day": [D[3], D[1], D[5], D[1]],  # unsorted on purpose: the helper sorts
            "value": [3, 1, 5, 10],
        }
    )


def test_newest_earlier_row_of_the_same_key_never_the_same_day():
    left = pl.DataFrame({"p": ["a", "a", "a", "b", "c", "a"], "game_date": [D[3], D[1], D[6], D[2], D[4], D[0]]})
    out = join_strictly_before(left, _right(), left_on="game_date", right_on="day", by="p")
    got = {(r["p"], r["game_date"]): r["value"] for r in out.to_dicts()}
    assert got == {
        ("a", D[0]): None,  # nothing earlier
        ("a", D[1]): None,  # the same day's row is not "before"
        ("a", D[3]): 1,  # D[3]'s own row excluded: the newest earlier is D[1]
        ("a", D[6]): 5,
        ("b", D[2]): 10,
        ("c", D[4]): None,  # no rows for the key
    }
    assert out["game_date"].is_sorted()


def test_several_keys_and_lazy_frames():
    left = pl.DataFrame({"p": ["a", "a"], "team": ["X", "Y"], "game_date": [D[4], D[4]]})
    right = pl.DataFrame({"p": ["a", "a"], "team": ["X", "Y"], "day": [D[2], D[4]], "value": [7, 8]})
    out = join_strictly_before(left.lazy(), right.lazy(), left_on="game_date", right_on="day", by=["p", "team"])
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().sort("team")["value"].to_list() == [7, None]
