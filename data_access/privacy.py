"""Small-cell suppression: no count of people below the minimum cell size leaves the store.

Three rules, applied to every figure's table before anything draws or exports it:

1. primary: a count between 1 and ``min_cell - 1`` is suppressed (shown as "<N");
2. complementary: when a breakdown would show exactly one suppressed cell next to its
   siblings, the smallest other non-zero sibling is suppressed too, so the hidden cell
   cannot be recovered as "total minus the others";
3. differencing: a cell is suppressed when the same cell with one filter removed is larger
   by less than ``min_cell`` (so "OCHA" minus "OCHA, female" cannot reveal a small group).

Rates built on a suppressed count are withheld. Suppressed counts are ``pd.NA`` in the
nullable ``Int64`` columns; withheld rates are ``pd.NA`` in ``Float64`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd


def small(values: pd.Series, min_cell: int) -> pd.Series:
    """True where a count is a small, non-zero number of people."""
    numbers = pd.to_numeric(values, errors="coerce")
    return (numbers > 0) & (numbers < min_cell)


def complementary(frame: pd.DataFrame, column: str, mask: pd.Series, groups: list[str]) -> pd.Series:
    """Extend ``mask`` so no group of siblings has exactly one suppressed non-zero cell.

    In such a group the smallest other non-zero sibling (the first of equals) is suppressed too.
    """
    keys = [frame[g] for g in groups] if groups else [pd.Series(0, index=frame.index)]
    lone = mask.groupby(keys, sort=False, dropna=False).transform("sum") == 1
    candidates = frame[column].where(lone & ~mask & (pd.to_numeric(frame[column]) > 0)).dropna()
    if candidates.empty:
        return mask
    keys = [key.loc[candidates.index] for key in keys]
    mask = mask.copy()
    mask.loc[pd.to_numeric(candidates).groupby(keys, sort=False, dropna=False).idxmin().to_numpy()] = True
    return mask


def differenced(
    child: pd.DataFrame, parent: pd.DataFrame, columns: list[str], keys: list[str], min_cell: int
) -> dict[str, pd.Series]:
    """Per count column: True where the parent slice's cell exceeds the child's by fewer than ``min_cell``."""
    if parent.empty:
        return {column: pd.Series(False, index=child.index) for column in columns}
    if keys:
        parent_values = child[keys].merge(parent[[*keys, *columns]], on=keys, how="left")[columns]
        parent_values.index = child.index
    else:
        parent_values = pd.DataFrame({column: parent[column].iloc[0] for column in columns}, index=child.index)
    found = {}
    for column in columns:
        difference = pd.to_numeric(parent_values[column]).fillna(0) - child[column]
        found[column] = (difference > 0) & (difference < min_cell)
    return found


def suppress(
    frame: pd.DataFrame,
    *,
    counts: Iterable[str],
    rates: Mapping[str, Iterable[str]],
    min_cell: int,
    groups: list[str] | None = None,
    extra: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """The frame with small counts suppressed and the rates built on them withheld.

    ``rates`` maps each rate column to the count columns it is built on; ``groups`` names
    the columns whose rows are siblings for complementary suppression (None: no siblings,
    []: all rows are siblings); ``extra`` adds masks found by differencing.
    """
    frame = frame.copy()
    hidden: dict[str, pd.Series] = {}
    for column in counts:
        mask = small(frame[column], min_cell)
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


def label(min_cell: int) -> str:
    """What a suppressed count shows as."""
    return f"<{min_cell}"
