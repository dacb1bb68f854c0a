"""P(over) calibration: an empirical predictive distribution plus isotonic recalibration.

Stage 1 (raw). The predictive distribution of a player's points is the model's prediction plus
the empirical residuals (actual - prediction) of the family's evaluation tail (the newest dates
of the training window, all before the prediction week). With sorted residuals r_1..r_n:

    raw_p_over(pred, line) = (#{r_i > line - pred} + 0.5) / (n + 1)

The +0.5 / +1 smoothing keeps the probability strictly inside (0, 1); with no residuals it is
0.5. `#{r_i > t}` is a `searchsorted`, so scoring is vectorised. It is non-increasing in `line`
and non-decreasing in `pred`.

Stage 2 (isotonic). On the tail rows that have a line and a decided outcome (pushes
actual == line excluded), the raw probability of each row is computed leave-one-out (its own
residual removed from the distribution: with it, the row's own outcome would leak into its
probability) and an isotonic (pool-adjacent-violators) map raw -> observed over rate is fitted,
when there are at least `min_isotonic_rows` (200) such rows; otherwise the map is the identity.
PAV blocks of fewer than `min_block_rows` (50) rows are pooled into a neighbour (the ends of a
PAV fit otherwise rest on a few rows and read as P = 0 or 1). Each block is a knot at its
centre (centred isotonic regression); the map interpolates linearly between knots and is flat
beyond the end knots: a raw probability more extreme than the tail has evidence for gets the
end block's observed rate (conservative: no extrapolation of confidence). Its output is clipped
to [eps, 1 - eps], eps = 0.5 / (m + 1) (m = rows used), so it stays in (0, 1).

Why the isotonic stage matters: the raw stage treats the line as a mere threshold, but the line
carries information the model may lack (an efficient market). Then the real over rate is much
flatter in (prediction - line) than the residual CDF says, and the isotonic map, fitted on
outcomes against real lines, pulls P(over) back toward what the tail actually showed.
A non-decreasing map of a non-increasing function keeps P(over) non-increasing in the line.

Because pushes are excluded from the isotonic fit, a recalibrated value estimates
P(over | not a push); the raw stage estimates P(actual > line).

Serialisable with `to_dict()` / `from_dict()` (JSON-safe lists) for the artifact store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

FORMAT_VERSION = 1
MIN_ISOTONIC_ROWS = 200
MIN_BLOCK_ROWS = 50


# ---------------------------------------------------------------------------------------------
# isotonic regression (pool adjacent violators)


def _pav_blocks(y: np.ndarray, w: np.ndarray) -> tuple[list[float], list[float], list[int]]:
    """Pool adjacent violators: the blocks (mean, weight, number of elements) of the weighted
    least-squares non-decreasing fit of `y` (in x order)."""
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(y.tolist(), w.tolist(), strict=True):
        means.append(value)
        weights.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] >= means[-1]:
            _pool_next(means, weights, sizes, len(means) - 2)
    return means, weights, sizes


def _pool_next(means: list[float], weights: list[float], sizes: list[int], i: int) -> None:
    """Pool block i + 1 into block i (in place)."""
    m2, w2, s2 = means.pop(i + 1), weights.pop(i + 1), sizes.pop(i + 1)
    m1, w1 = means[i], weights[i]
    total = w1 + w2
    means[i] = (m1 * w1 + m2 * w2) / total if total > 0 else (m1 + m2) / 2.0
    weights[i] = total
    sizes[i] += s2


def _merge_small_blocks(
    means: list[float], weights: list[float], sizes: list[int], min_weight: float
) -> tuple[list[float], list[float], list[int]]:
    """Pool every block lighter than `min_weight` into its closer neighbour (in mean), lightest
    first. Pooling two adjacent blocks of a non-decreasing sequence gives a value between them,
    so the result stays non-decreasing."""
    means, weights, sizes = list(means), list(weights), list(sizes)
    while len(means) > 1:
        i = int(np.argmin(weights))
        if weights[i] >= min_weight:
            break
        if i == 0:
            j = 1
        elif i == len(means) - 1:
            j = i - 1
        else:
            j = i - 1 if means[i] - means[i - 1] <= means[i + 1] - means[i] else i + 1
        _pool_next(means, weights, sizes, min(i, j))
    return means, weights, sizes


def pav(y: np.ndarray, weights: np.ndarray | None = None, *, min_block_weight: float = 0.0) -> np.ndarray:
    """Weighted least-squares non-decreasing fit of the sequence `y` (already in x order):
    pool-adjacent-violators, then blocks lighter than `min_block_weight` pooled into a
    neighbour. Returns the fitted value of every element."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    if y.shape != w.shape:
        raise ValueError(f"y and weights differ in shape: {y.shape} vs {w.shape}")
    if y.size == 0:
        return y.copy()
    means, _, sizes = _merge_small_blocks(*_pav_blocks(y, w), min_block_weight)
    return np.repeat(np.asarray(means), np.asarray(sizes))


@dataclass(frozen=True)
class IsotonicMap:
    """A fitted non-decreasing map x -> y: linear between the knots, flat outside them, output
    clipped to [low, high]. No knots means the identity."""

    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    low: float = 0.0
    high: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self.x.size == 0

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.is_identity:
            return values.copy()
        out = np.clip(np.interp(values, self.x, self.y), self.low, self.high)
        return np.where(np.isnan(values), np.nan, out)


def fit_isotonic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    min_block_weight: float = 0.0,
    clip: tuple[float, float] = (0.0, 1.0),
) -> IsotonicMap:
    """Centred isotonic regression of y on x. Equal x values are pooled first (their mean,
    weighted by their count), then `pav` (adjacent blocks with equal means pooled too). Each
    block becomes one knot: (count-weighted mean x of the block, block mean). Interpolating
    between block centres instead of drawing steps (scikit-learn's knots at each block's first
    and last x) removes the step artefacts at block edges: less noise at the same sample."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size == 0:
        return IsotonicMap()
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    ux, start, counts = np.unique(x, return_index=True, return_counts=True)
    sums = np.add.reduceat(y, start)
    weights = counts.astype(np.float64)
    means, _, sizes = _merge_small_blocks(*_pav_blocks(sums / counts, weights), min_block_weight)
    starts = np.cumsum(sizes) - np.asarray(sizes)
    centres = np.add.reduceat(ux * weights, starts) / np.add.reduceat(weights, starts)
    return IsotonicMap(x=centres, y=np.asarray(means), low=clip[0], high=clip[1])


# ---------------------------------------------------------------------------------------------
# calibration


def _over_counts(sorted_residuals: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """#{r > t} for each t (sorted residuals)."""
    return sorted_residuals.size - np.searchsorted(sorted_residuals, threshold, side="right")


@dataclass(frozen=True)
class Calibration:
    """P(over) of a family: `residuals` (sorted actual - prediction of its evaluation tail) and
    the isotonic recalibration `isotonic` (identity when too few lined tail rows)."""

    residuals: np.ndarray
    isotonic: IsotonicMap = field(default_factory=IsotonicMap)
    n_isotonic: int = 0

    def __post_init__(self) -> None:
        residuals = np.sort(np.asarray(self.residuals, dtype=np.float64))
        object.__setattr__(self, "residuals", residuals[~np.isnan(residuals)])

    @property
    def n_residuals(self) -> int:
        return int(self.residuals.size)

    def raw_p_over(self, predicted: np.ndarray, line: np.ndarray) -> np.ndarray:
        """Stage 1 only: (#{r > line - pred} + 0.5) / (n + 1); NaN where pred or line is NaN."""
        predicted, line = np.broadcast_arrays(
            np.asarray(predicted, dtype=np.float64), np.asarray(line, dtype=np.float64)
        )
        threshold = line - predicted
        missing = np.isnan(threshold)
        counts = _over_counts(self.residuals, np.where(missing, 0.0, threshold))
        p = (counts + 0.5) / (self.n_residuals + 1.0)
        return np.where(missing, np.nan, p)

    def p_over(self, predicted: np.ndarray, line: np.ndarray) -> np.ndarray:
        """Calibrated P(actual > line) in (0, 1); NaN where the prediction or the line is
        missing. Non-increasing in `line` for a fixed prediction."""
        return self.isotonic(self.raw_p_over(predicted, line))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation (lists of floats)."""
        return {
            "format_version": FORMAT_VERSION,
            "residuals": [float(r) for r in self.residuals],
            "isotonic": None
            if self.isotonic.is_identity
            else {
                "x": [float(v) for v in self.isotonic.x],
                "y": [float(v) for v in self.isotonic.y],
                "low": float(self.isotonic.low),
                "high": float(self.isotonic.high),
            },
            "n_isotonic": int(self.n_isotonic),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        version = data.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise ValueError(f"calibration format_version {version} is not supported (expected {FORMAT_VERSION})")
        iso = data.get("isotonic")
        isotonic = (
            IsotonicMap()
            if not iso
            else IsotonicMap(
                x=np.asarray(iso["x"], dtype=np.float64),
                y=np.asarray(iso["y"], dtype=np.float64),
                low=float(iso["low"]),
                high=float(iso["high"]),
            )
        )
        return cls(
            residuals=np.asarray(data.get("residuals") or [], dtype=np.float64),
            isotonic=isotonic,
            n_isotonic=int(data.get("n_isotonic", 0)),
        )


def _column(frame: pl.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        raise KeyError(f"eval_frame has no column {name!r} (columns: {frame.columns})")
    return frame.get_column(name).cast(pl.Float64).fill_nan(None).to_numpy().astype(np.float64)


def fit_calibration(
    eval_frame: pl.DataFrame,
    *,
    min_isotonic_rows: int = MIN_ISOTONIC_ROWS,
    min_block_rows: int = MIN_BLOCK_ROWS,
) -> Calibration:
    """Fit the calibration on an evaluation tail with columns prediction, actual (Float64) and
    line (nullable). Rows without a prediction or an actual are ignored.

    The isotonic stage (when at least `min_isotonic_rows` lined, non-push rows) pools every PAV
    block of fewer than `min_block_rows` rows into a neighbour, so no block (in particular the
    end blocks, where PAV overfits most: a handful of overs would read as P = 1) rests on a
    tiny sample."""
    prediction, actual = _column(eval_frame, "prediction"), _column(eval_frame, "actual")
    line = _column(eval_frame, "line") if "line" in eval_frame.columns else np.full(prediction.size, np.nan)
    valid = ~(np.isnan(prediction) | np.isnan(actual))
    prediction, actual, line = prediction[valid], actual[valid], line[valid]
    residuals = actual - prediction
    base = Calibration(residuals=residuals)

    decided = ~np.isnan(line) & (actual != line)
    m = int(decided.sum())
    if m < min_isotonic_rows:
        return Calibration(residuals=base.residuals, n_isotonic=0)

    pred_d, line_d, resid_d = prediction[decided], line[decided], residuals[decided]
    outcome = (actual[decided] > line_d).astype(np.float64)
    threshold = line_d - pred_d
    counts = _over_counts(base.residuals, threshold)
    own = (resid_d > threshold).astype(np.float64)  # the row's own residual counted in `counts`
    raw_loo = (counts - own + 0.5) / base.n_residuals  # n - 1 residuals left: / ((n - 1) + 1)
    eps = 0.5 / (m + 1.0)
    isotonic = fit_isotonic(raw_loo, outcome, min_block_weight=min_block_rows, clip=(eps, 1.0 - eps))
    return Calibration(residuals=base.residuals, isotonic=isotonic, n_isotonic=m)
