"""Small-cell suppression: primary, complementary, differencing, and withheld rates."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from data_access.reads.privacy import complementary, differenced, suppress

MIN = 5


def frame(**columns):  # type: ignore[no-untyped-def]
    return pd.DataFrame(columns)


def test_small_counts_are_hidden_and_zero_and_large_are_shown():
    out = suppress(frame(k=["a", "b", "c"], n=[0, 3, 40]), counts=["n"], rates={}, min_cell=MIN, groups=None)
    assert out["n"].tolist() == [0, pd.NA, 40]


def test_the_minimum_itself_is_shown():
    out = suppress(frame(k=["a"], n=[5]), counts=["n"], rates={}, min_cell=MIN, groups=None)
    assert out["n"].tolist() == [5]


def test_a_lone_hidden_sibling_takes_the_smallest_other_with_it():
    out = suppress(frame(k=["a", "b", "c", "d"], n=[3, 50, 12, 0]), counts=["n"], rates={}, min_cell=MIN, groups=[])
    assert out["n"].isna().tolist() == [True, False, True, False]


def test_complementary_suppression_works_within_each_group_only():
    data = frame(g=["x", "x", "y", "y"], k=["a", "b", "a", "b"], n=[2, 30, 10, 20])
    out = suppress(data, counts=["n"], rates={}, min_cell=MIN, groups=["g"])
    assert out["n"].isna().tolist() == [True, True, False, False]


def test_two_hidden_siblings_need_no_more():
    out = suppress(frame(k=["a", "b", "c"], n=[2, 3, 90]), counts=["n"], rates={}, min_cell=MIN, groups=[])
    assert out["n"].isna().tolist() == [True, True, False]


def test_rates_built_on_a_hidden_count_are_withheld():
    data = frame(k=["a", "b"], learners=[3, 80], headcount=[10, 100], reach_rate=[0.3, 0.8])
    out = suppress(
        data,
        counts=["learners", "headcount"],
        rates={"reach_rate": ("learners", "headcount")},
        min_cell=MIN,
        groups=None,
    )
    assert out["reach_rate"].isna().tolist() == [True, False]
    assert out["reach_rate"].iloc[1] == 0.8


def test_differencing_against_the_parent_slice_hides_a_recoverable_cell():
    child = frame(entity=["OCHA", "DPO"], n=[97, 40])
    parent = frame(entity=["OCHA", "DPO"], n=[100, 60])
    mask = differenced(child, parent, ["n"], ["entity"], MIN)["n"]
    assert mask.tolist() == [True, False]
    out = suppress(child, counts=["n"], rates={}, min_cell=MIN, groups=None, extra={"n": mask})
    assert out["n"].isna().tolist() == [True, False]


def test_differencing_a_single_row_total():
    assert differenced(frame(n=[20]), frame(n=[22]), ["n"], [], MIN)["n"].tolist() == [True]
    assert differenced(frame(n=[20]), frame(n=[20]), ["n"], [], MIN)["n"].tolist() == [False]


def test_differencing_several_counts_at_once_keeps_each_apart():
    child = frame(entity=["OCHA", "DPO"], a=[97, 40], b=[10, 58])
    parent = frame(entity=["DPO", "OCHA"], a=[60, 100], b=[60, 10])
    found = differenced(child, parent, ["a", "b"], ["entity"], MIN)
    assert found["a"].tolist() == [True, False]
    assert found["b"].tolist() == [False, True]


def _complementary_one_group_at_a_time(frame, column, mask, groups):  # type: ignore[no-untyped-def]
    """The rule group by group, in plain pandas: the reference the vectorised version must match."""
    mask = mask.copy()
    grouped = [(None, frame)] if not groups else frame.groupby(groups, sort=False, dropna=False)
    for _, siblings in grouped:
        hidden = mask.loc[siblings.index]
        if int(hidden.sum()) != 1:
            continue
        shown = siblings.loc[~hidden & (siblings[column] > 0), column]
        if not shown.empty:
            mask.loc[shown.idxmin()] = True
    return mask


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["x", "y", "z", None]), st.integers(0, 12), st.booleans()), min_size=1, max_size=30
    ),
    st.booleans(),
)
def test_complementary_matches_the_group_by_group_rule(rows, grouped):  # type: ignore[no-untyped-def]
    data = pd.DataFrame(rows, columns=["g", "n", "hidden"]).sample(frac=1, random_state=len(rows))
    groups = ["g"] if grouped else []
    expected = _complementary_one_group_at_a_time(data, "n", data["hidden"], groups)
    assert complementary(data, "n", data["hidden"], groups).tolist() == expected.tolist()


def _suppress_with_pandas(frame, *, counts, rates, min_cell, groups=None, extra=None):  # type: ignore[no-untyped-def]
    """Suppression column by column in plain pandas: the reference for the numpy version."""
    frame = frame.copy()
    hidden = {}
    for column in counts:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        mask = (numbers > 0) & (numbers < min_cell)
        if extra and column in extra:
            mask = mask | extra[column]
        if groups is not None and len(frame) > 1:
            mask = complementary(frame, column, mask, groups)
        hidden[column] = mask
    for column, mask in hidden.items():
        frame[column] = pd.to_numeric(frame[column]).round().astype("Int64").mask(mask)
    for rate, basis in rates.items():
        withheld = pd.Series(False, index=frame.index)
        for column in basis:
            withheld |= hidden.get(column, pd.Series(False, index=frame.index))
        frame[rate] = pd.to_numeric(frame[rate]).astype("Float64").mask(withheld)
    return frame


def _differenced_by_merge(child, parent, columns, keys, min_cell):  # type: ignore[no-untyped-def]
    if parent.empty:
        return {column: pd.Series(False, index=child.index) for column in columns}
    if keys:
        parent_values = child[keys].merge(parent[[*keys, *columns]], on=keys, how="left")[columns]
        parent_values.index = child.index
    else:
        parent_values = pd.DataFrame({column: parent[column].iloc[0] for column in columns}, index=child.index)
    return {
        c: (pd.to_numeric(parent_values[c]).fillna(0) - child[c] > 0)
        & (pd.to_numeric(parent_values[c]).fillna(0) - child[c] < min_cell)
        for c in columns
    }


counts_or_gaps = st.one_of(st.integers(0, 40), st.just(float("nan")))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["x", "y", None]), st.integers(0, 9), counts_or_gaps, counts_or_gaps),
             min_size=1, max_size=25, unique_by=lambda row: row[:2]),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=25, max_size=25),
    st.sampled_from([None, [], ["g"]]),
    st.booleans(),
)  # fmt: skip
def test_suppression_and_differencing_match_the_pandas_rules(rows, more, groups, keyed):  # type: ignore[no-untyped-def]
    child = pd.DataFrame(rows, columns=["g", "k", "a", "b"]).sample(frac=1, random_state=len(rows))
    child["rate"] = child["a"] / child["b"].where(child["b"] > 0)
    parent = child[["g", "k"]].assign(a=[m[0] for m in more[: len(child)]], b=[m[1] for m in more[: len(child)]])
    parent = parent[parent["a"] % 4 > 0]  # some cells only the child has
    keys = ["g", "k"] if keyed else []
    expected = _differenced_by_merge(child, parent, ["a", "b"], keys, MIN)
    found = differenced(child, parent, ["a", "b"], keys, MIN)
    for column in ("a", "b"):
        assert found[column].tolist() == expected[column].tolist()
    options = {"counts": ["a", "b"], "rates": {"rate": ["a", "b"]}, "min_cell": MIN, "groups": groups, "extra": found}
    pd.testing.assert_frame_equal(suppress(child, **options), _suppress_with_pandas(child, **options))
