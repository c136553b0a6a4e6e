"""Stance over time: how often each group (actor, counterpart, issue) takes each stance, per period.

An analyst reads a series ("China toward the United States on migration, month by month"), so
``trends`` turns scored rows into one row per group and period with the count of each stance,
its share with a Wilson 95% interval (honest for small counts, never outside 0-1), and the mean
probability of each stance. Periods with fewer than ``min_count`` statements are flagged
``sparse`` (the plot greys them out) rather than drawn as certain. Wire services repeat one
statement many times a day: rows of one group with the same normalised text on the same day
count once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from diplostance.model.labels import LABELS, STANCES

FREQUENCIES = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
Z_95 = 1.959964


def wilson_interval(count: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a share ``count / n``."""
    if n == 0:
        return 0.0, 1.0
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def trends(
    frame: pd.DataFrame,
    by: Sequence[str] = ("actor", "counterpart", "issue"),
    freq: str = "month",
    *,
    date_column: str = "date",
    text_column: str = "text",
    min_count: int = 10,
) -> pd.DataFrame:
    """One row per group and period: ``n``, ``n_<label>``, ``share_<label>`` with ``share_<label>_low/high``
    (Wilson 95%), ``mean_p_<label>`` where the probabilities are present, and ``sparse``.
    Rows without a stance (error rows) or without a readable date are left out and counted in
    ``result.attrs["left_out"]``."""
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {', '.join(FREQUENCIES)}, got {freq!r}")
    by = list(by)
    missing = [c for c in [*by, date_column, "stance"] if c not in frame.columns]
    if missing:
        raise ValueError(f"no column(s) {', '.join(map(repr, missing))} (columns: {', '.join(frame.columns)})")
    rows = frame.copy()
    dates = pd.to_datetime(rows[date_column].astype("string"), errors="coerce", utc=True, format="mixed")
    rows["_date"] = dates.dt.tz_localize(None)
    usable = rows["stance"].isin(LABELS) & rows["_date"].notna()
    left_out = int((~usable).sum())
    rows = rows[usable]
    for column in by:
        rows[column] = rows[column].fillna("—").astype(str)
    if text_column in rows.columns:  # a wire repeat: same group, same day, same words
        rows["_words"] = rows[text_column].astype(str).map(lambda t: re.sub(r"\W+", " ", t.lower()).strip())
        rows["_day"] = rows["_date"].dt.normalize()
        rows = rows.drop_duplicates([*by, "_day", "_words"])
    rows["period"] = rows["_date"].dt.to_period(FREQUENCIES[freq]).dt.start_time
    table = _aggregate(rows, by, min_count)
    table.attrs["left_out"] = left_out
    return table


def _aggregate(rows: pd.DataFrame, by: list[str], min_count: int) -> pd.DataFrame:
    records = []
    for key, group in rows.groupby([*by, "period"], sort=True):
        n = len(group)
        record = dict(zip([*by, "period"], key if isinstance(key, tuple) else (key,)))
        record["n"] = n
        for label in LABELS:
            count = int((group["stance"] == label).sum())
            low, high = wilson_interval(count, n)
            record |= {f"n_{label}": count, f"share_{label}": count / n}
            record |= {f"share_{label}_low": low, f"share_{label}_high": high}
            if f"p_{label}" in group.columns:
                record[f"mean_p_{label}"] = float(pd.to_numeric(group[f"p_{label}"], errors="coerce").mean())
        record["sparse"] = n < min_count
        records.append(record)
    return pd.DataFrame.from_records(records)


def plot_trends(table: pd.DataFrame, path: str | Path, by: Sequence[str], *, max_panels: int = 12) -> Path:
    """Small multiples, one panel per group (the ``max_panels`` with most statements): the share of each
    stance per period with its Wilson band; sparse periods are drawn as grey hollow points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by = list(by)
    if table.empty:
        raise ValueError("nothing to plot: no scored rows with a date")
    totals = table.groupby(by)["n"].sum().sort_values(ascending=False).head(max_panels)
    columns = min(3, len(totals))
    rows = math.ceil(len(totals) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.2 * rows), squeeze=False, sharey=True)
    colours = {"cooperative": "#1b9e77", "conditional": "#d95f02", "refusing": "#7570b3"}
    for axis, (key, total) in zip(axes.flat, totals.items()):
        key = key if isinstance(key, tuple) else (key,)
        group = table[(table[by] == pd.Series(key, index=by)).all(axis=1)].sort_values("period")
        for label in STANCES:
            solid = group[~group["sparse"]]
            axis.plot(solid["period"], solid[f"share_{label}"], marker="o", ms=3, color=colours[label], label=label)
            axis.fill_between(
                solid["period"], solid[f"share_{label}_low"], solid[f"share_{label}_high"], color=colours[label],
                alpha=0.15, linewidth=0,
            )  # fmt: skip
            sparse = group[group["sparse"]]
            axis.scatter(sparse["period"], sparse[f"share_{label}"], facecolors="none", edgecolors="#999999", s=14)
        axis.set_title(" · ".join(f"{k}" for k in key) + f"  (n={total})", fontsize=9)
        axis.set_ylim(0, 1)
        axis.tick_params(labelsize=7)
    for axis in list(axes.flat)[len(totals) :]:
        axis.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="upper left")
    figure.suptitle("Share of statements by stance (bands: Wilson 95%; hollow grey: too few statements)", fontsize=10)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path
