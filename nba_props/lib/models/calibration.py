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

Which rows: the calibration part of the training window (training.py: never seen by the fit
nor by early stopping). The residuals (stage 1) are the model's errors on every row of it. The
isotonic stage (stage 2) uses the lines of one market: when the calibration part holds at least
`sportsbook_min_rows` decided sportsbook-priced rows (`market_type == 'sportsbook'` when the
frame has that column, else rows with both prices), only those; otherwise every decided lined
row (e.g. a window with DFS lines only). `Calibration.market` records which (`sportsbook` or
`all_lined`), and `fit_market_calibration` also returns the Brier figures on those rows.

Because pushes are excluded from the isotonic fit, a recalibrated value estimates
P(over | not a push); the raw stage estimates P(actual > line).

Serialisable with `to_dict()` / `from_dict()` (JSON-safe lists) for the artifact store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from nba_props.lib.models.registry import load_models_config

FORMAT_VERSION = 1
# The defaults of the fit functions: config/models.yaml's `calibration` section (loaded once).
MIN_ISOTONIC_ROWS = load_models_config().calibration.min_isotonic_rows
MIN_BLOCK_ROWS = load_models_config().calibration.min_block_rows
SPORTSBOOK, ALL_LINED = "sportsbook", "all_lined"


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
    market: str | None = None  # rows of the isotonic stage: sportsbook | all_lined (None: unknown, old files)

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
            "market": self.market,
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
            market=data.get("market"),
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
    isotonic_rows: np.ndarray | None = None,
    market: str | None = None,
) -> Calibration:
    """Fit the calibration on a held-out frame with columns prediction, actual (Float64) and
    line (nullable). Rows without a prediction or an actual are ignored.

    `isotonic_rows` (a boolean mask over the frame's rows, default all) limits the isotonic
    stage to those rows (the calibration market); the residuals always come from every row.
    The isotonic stage (when at least `min_isotonic_rows` lined, non-push rows) pools every PAV
    block of fewer than `min_block_rows` rows into a neighbour, so no block (in particular the
    end blocks, where PAV overfits most: a handful of overs would read as P = 1) rests on a
    tiny sample."""
    prediction, actual = _column(eval_frame, "prediction"), _column(eval_frame, "actual")
    line = _column(eval_frame, "line") if "line" in eval_frame.columns else np.full(prediction.size, np.nan)
    eligible = np.ones(prediction.size, dtype=bool) if isotonic_rows is None else np.asarray(isotonic_rows, dtype=bool)
    if eligible.shape != prediction.shape:
        raise ValueError(f"isotonic_rows has {eligible.size} entries for {prediction.size} rows")
    valid = ~(np.isnan(prediction) | np.isnan(actual))
    prediction, actual, line, eligible = prediction[valid], actual[valid], line[valid], eligible[valid]
    base = Calibration(residuals=actual - prediction, market=market)

    decided = eligible & ~np.isnan(line) & (actual != line)
    m = int(decided.sum())
    if m < min_isotonic_rows:
        return base
    raw_loo = _raw_loo(base, prediction[decided], actual[decided], line[decided])
    outcome = (actual[decided] > line[decided]).astype(np.float64)
    eps = 0.5 / (m + 1.0)
    isotonic = fit_isotonic(raw_loo, outcome, min_block_weight=min_block_rows, clip=(eps, 1.0 - eps))
    return Calibration(residuals=base.residuals, isotonic=isotonic, n_isotonic=m, market=market)


def _raw_loo(base: Calibration, prediction: np.ndarray, actual: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Stage-1 P(over) of rows that are themselves among `base.residuals`, each with its own
    residual left out (n - 1 residuals: (count - own + 0.5) / n)."""
    threshold = line - prediction
    own = ((actual - prediction) > threshold).astype(np.float64)
    return (_over_counts(base.residuals, threshold) - own + 0.5) / base.n_residuals


def sportsbook_mask(frame: pl.DataFrame) -> np.ndarray:
    """Rows priced by a sportsbook: `market_type == 'sportsbook'` when the frame has that
    column, else rows with both an over and an under price; all False when it has neither."""
    if "market_type" in frame.columns:
        expr = pl.col("market_type") == SPORTSBOOK
    elif {"over_price", "under_price"} <= set(frame.columns):
        expr = pl.col("over_price").is_not_null() & pl.col("under_price").is_not_null()
    else:
        return np.zeros(frame.height, dtype=bool)
    return frame.select(expr.fill_null(False)).to_series().to_numpy().astype(bool)


def _market_p_over(frame: pl.DataFrame) -> np.ndarray:
    """The de-vigged market P(over) of each row (NaN without prices)."""
    if "implied_over_prob" in frame.columns:
        return _column(frame, "implied_over_prob")
    if {"over_price", "under_price"} <= set(frame.columns):
        from nba_props.lib.lines import devig_over_prob

        fair = frame.select(devig_over_prob(pl.col("over_price"), pl.col("under_price")).cast(pl.Float64))
        return fair.to_series().fill_nan(None).to_numpy().astype(np.float64)
    return np.full(frame.height, np.nan)


def _brier(p: np.ndarray, outcome: np.ndarray) -> float | None:
    return None if p.size == 0 else round(float(np.mean((p - outcome) ** 2)), 4)


def fit_market_calibration(
    eval_frame: pl.DataFrame,
    *,
    min_isotonic_rows: int = MIN_ISOTONIC_ROWS,
    min_block_rows: int = MIN_BLOCK_ROWS,
    sportsbook_min_rows: int = 1,
) -> tuple[Calibration, dict[str, Any]]:
    """The calibration of a held-out frame (prediction, actual, line and, when known,
    market_type / over_price / under_price / implied_over_prob), its isotonic stage on the
    sportsbook-priced rows when at least `sportsbook_min_rows` decided ones exist, else on every
    decided lined row; and the figures on those rows (JSON-safe), for the registry metrics:

    - `market`: sportsbook | all_lined; `n_sportsbook`: decided sportsbook rows in the frame;
      `n_rows`: decided rows of the market (the isotonic candidates); `n_isotonic` (0: identity)
    - `brier_raw_loo`: stage-1 P(over), each row's own residual left out (honest: no row's
      outcome is in its own probability); `brier_calibrated_in_sample`: the isotonic map applied
      to it, in sample (the map was fitted on these rows: optimistic, for reference only)
    - `n_priced`, `market_brier`: the de-vigged market P(over) on the market rows with prices,
      and `brier_raw_loo_priced`: the model's stage-1 Brier on exactly those rows."""
    prediction, actual = _column(eval_frame, "prediction"), _column(eval_frame, "actual")
    line = _column(eval_frame, "line") if "line" in eval_frame.columns else np.full(prediction.size, np.nan)
    decided = ~(np.isnan(prediction) | np.isnan(actual) | np.isnan(line)) & (actual != line)
    sportsbook = sportsbook_mask(eval_frame)
    n_sportsbook = int((decided & sportsbook).sum())
    market = SPORTSBOOK if n_sportsbook >= max(1, sportsbook_min_rows) else ALL_LINED
    rows = decided & sportsbook if market == SPORTSBOOK else decided
    calibration = fit_calibration(
        eval_frame, min_isotonic_rows=min_isotonic_rows, min_block_rows=min_block_rows,
        isotonic_rows=rows, market=market,
    )  # fmt: skip

    figures: dict[str, Any] = {
        "market": market, "n_sportsbook": n_sportsbook, "n_rows": int(rows.sum()),
        "n_isotonic": calibration.n_isotonic, "n_residuals": calibration.n_residuals,
    }  # fmt: skip
    outcome = (actual[rows] > line[rows]).astype(np.float64)
    raw = _raw_loo(calibration, prediction[rows], actual[rows], line[rows]) if rows.any() else np.empty(0)
    market_p = _market_p_over(eval_frame)[rows]
    priced = ~np.isnan(market_p)
    figures.update(
        brier_raw_loo=_brier(raw, outcome),
        brier_calibrated_in_sample=_brier(calibration.isotonic(raw), outcome),
        n_priced=int(priced.sum()),
        market_brier=_brier(market_p[priced], outcome[priced]),
        brier_raw_loo_priced=_brier(raw[priced], outcome[priced]),
    )
    return calibration, figures
