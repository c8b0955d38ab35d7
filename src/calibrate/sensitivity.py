"""Rank uncertainty: Monte-Carlo over points weights.

How sure is a firm of its list place when the weights are uncertain? :func:`rank_uncertainty`
draws many points tables — random perturbations around a framework (:class:`Dirichlet`,
:class:`Jitter`) or the bootstrap output of a suggestion (:class:`FromDraws`, :class:`FromIntervals`)
— re-ranks every firm under each and returns a :class:`RankUncertainty`: per firm a rank interval
(5th–95th percentile by default), the probability of landing on each list and of a subsidy, and
:meth:`RankUncertainty.uncertain`, the firms whose list is close to a coin flip.

Raw data are scored once. A draw re-uses the fraction matrix ``F`` of :class:`ScoreResult`
(``points = fraction × points table``): the total of firm ``i`` in stage ``s`` under draw ``P`` is
``Σ_j round(P[s, j] × F[i, j])`` over core indicators, plus each bonus group's rounded subtotal
capped at its cap, minus the firm's deductions; vetoes are fixed. This is exactly the scorer's
arithmetic (:func:`score_draws` with the framework's own table reproduces the scorer's totals,
ranks, lists and subsidies bit for bit), and it follows :meth:`Framework.with_points`: count rules
and points-valued bands rescale with the points, so every firm keeps its fraction. Totals are
computed in integer units of ``10**-decimals`` points, vectorised over firms and batches of draws.

Everything is deterministic given ``seed`` (a :class:`numpy.random.Generator` is built from it):
all draws are sampled before scoring, so the batch size never changes a result.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.framework import Framework, load_framework
from calibrate.scoring import DrawEngine, DrawScores, ScoreResult, score, score_many

__all__ = [
    "DEFAULT_DRAWS",
    "Dirichlet",
    "DrawScores",
    "FromDraws",
    "FromIntervals",
    "Jitter",
    "RankUncertainty",
    "WeightSampler",
    "points_array",
    "rank_uncertainty",
    "score_draws",
]

#: Draws made by the random samplers when ``n_draws`` is not given.
DEFAULT_DRAWS = 1000
#: Firm × draw cells scored per batch (about 8 MB of float64 per working array).
BATCH_CELLS = 2**20
NO_TIER = "none"
VETOED = "vetoed"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# --- messages (module constants so tests compare them exactly) ---------------------------

MSG_SCORES_FRAMEWORK = (
    "scores were computed with framework {got!r}, not with {want!r}; pass the scores of the same "
    "framework, or leave scores out to score the data here"
)
MSG_NO_DATA = "pass data (an enterprise table) or scores (a ScoreResult of the framework)"
MSG_POINTS_SHAPE = (
    "points must have shape (n_draws, {s}, {k}) — draws × stages × indicators in framework order; "
    "got {shape}"
)
MSG_POINTS_VALUES = "points must be finite and >= 0; found {found}"
MSG_TABLE_COLUMNS = "{what} table needs columns {need}; it has {have}"
MSG_TABLE_UNKNOWN = (
    "{what} table names {kind} {names} that framework {fw} does not have; use {known}"
)
MSG_TABLE_DUPLICATE = "{what} table has {n} duplicate rows for the same {keys}; give one value each"
MSG_INTERVAL_ORDER = (
    "intervals table has low > high (or a missing bound) for {pairs}; give low <= high"
)
MSG_UNKNOWN_SAMPLER = "unknown weights {name!r}; use 'dirichlet', 'jitter' or a sampler object"
MSG_LEVEL = "level must be in (0, 1) (0.9 = 5th to 95th percentile); got {level!r}"
MSG_THRESHOLD = "threshold must be in (0, 1]; got {threshold!r}"
MSG_N_DRAWS = "n_draws must be a positive whole number; got {n!r}"
MSG_FORMAT = "fmt must be 'csv' or 'parquet'; got {fmt!r}"


def points_array(framework: Framework) -> FloatArray:
    """The framework's points table as an array of shape (n_stages, n_indicators), framework order."""
    return np.array(
        [[ind.points[s] for ind in framework.indicators] for s in framework.stage_ids],
        dtype=np.float64,
    ).reshape(len(framework.stages), len(framework.indicators))


# --- weight samplers ---------------------------------------------------------------------------


@runtime_checkable
class WeightSampler(Protocol):
    """Anything that draws points tables for a framework.

    ``sample(framework, n_draws, rng)`` returns an array of shape (n_draws, n_stages,
    n_indicators) in framework order; ``n_draws=None`` means the sampler's natural number.
    """

    def sample(
        self, framework: Framework, n_draws: int | None, rng: np.random.Generator
    ) -> FloatArray: ...


@dataclass(frozen=True)
class Dirichlet:
    """Core points per stage drawn from a Dirichlet around the current points, budget kept.

    In each stage the core indicators with points ``p`` (summing to the stage's budget ``B``) get
    ``B × w`` with ``w ~ Dirichlet(concentration × p / B)``: the mean is today's table and an
    indicator with share ``q = p / B`` has standard deviation ``B·sqrt(q(1 − q)/(concentration + 1))``
    (about ±2 points for a 10-point indicator at the default). Indicators with 0 points and bonus
    indicators keep their points.

    Parameters
    ----------
    concentration : float, default 200
        Larger = draws closer to the current table.
    """

    concentration: float = 200.0
    default_draws: ClassVar[int] = DEFAULT_DRAWS

    def sample(
        self, framework: Framework, n_draws: int | None, rng: np.random.Generator
    ) -> FloatArray:
        """Draw ``n_draws`` points tables (default 1,000)."""
        n = self.default_draws if n_draws is None else n_draws
        base = points_array(framework)
        out = np.repeat(base[None], n, axis=0)
        core_ids = set(framework.core_indicator_ids)
        core = np.array(
            [j for j, i in enumerate(framework.indicators) if i.id in core_ids], dtype=np.int64
        )
        for s in range(base.shape[0]):
            cols = core[base[s, core] > 0]
            budget = float(base[s, cols].sum())
            if cols.size < 2 or budget <= 0:
                continue
            alpha = self.concentration * base[s, cols] / budget
            out[:, s, cols] = budget * rng.dirichlet(alpha, size=n)
        return out


@dataclass(frozen=True)
class Jitter:
    """Every non-zero points entry shifted by a uniform amount in ``[-points, +points]``, clipped.

    Parameters
    ----------
    points : float, default 2
        Largest shift, in points, of each (stage, indicator) entry, drawn independently.
    low, high : float or None
        Bounds the drawn points are clipped to (default: at least 0, no upper bound).

    Notes
    -----
    The core budget is not kept: a draw may total more or less than the budget, as a hand edit
    of ± a few points would.
    """

    points: float = 2.0
    low: float = 0.0
    high: float | None = None
    default_draws: ClassVar[int] = DEFAULT_DRAWS

    def sample(
        self, framework: Framework, n_draws: int | None, rng: np.random.Generator
    ) -> FloatArray:
        """Draw ``n_draws`` points tables (default 1,000)."""
        n = self.default_draws if n_draws is None else n_draws
        base = points_array(framework)
        out = base[None] + rng.uniform(-self.points, self.points, size=(n, *base.shape))
        out = np.clip(out, self.low, np.inf if self.high is None else self.high)
        return np.where(base[None] == 0, 0.0, out)


def _long_table(
    table: pd.DataFrame,
    framework: Framework,
    what: str,
    value_cols: Sequence[str],
    extra_keys: Sequence[str] = (),
) -> tuple[pd.DataFrame, IntArray, IntArray]:
    """Validate a long (indicator, stage, …) table; return it with stage and indicator positions."""
    need = [*extra_keys, "indicator", "stage", *value_cols]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(
            MSG_TABLE_COLUMNS.format(
                what=what, need=", ".join(need), have=", ".join(map(str, table.columns))
            )
        )
    inds = table["indicator"].astype(str)
    stages = table["stage"].astype(str)
    for kind, values, known in (
        ("indicators", inds, framework.indicator_ids),
        ("stages", stages, framework.stage_ids),
    ):
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                MSG_TABLE_UNKNOWN.format(
                    what=what,
                    kind=kind,
                    names=", ".join(unknown),
                    fw=framework.id,
                    known=", ".join(known),
                )
            )
    keys = [*extra_keys, "indicator", "stage"]
    dup = int(table.duplicated(keys).sum())
    if dup:
        raise ValueError(MSG_TABLE_DUPLICATE.format(what=what, n=dup, keys=" and ".join(keys)))
    ind_pos = pd.Index(framework.indicator_ids).get_indexer(pd.Index(inds)).astype(np.int64)
    stage_pos = pd.Index(framework.stage_ids).get_indexer(pd.Index(stages)).astype(np.int64)
    return table, stage_pos, ind_pos


@dataclass(frozen=True, eq=False)
class FromDraws:
    """Points tables given as draws, e.g. the bootstrap replicates of a suggestion.

    ``FromDraws(suggestion.bootstrap_draws)`` with ``suggestion.framework`` shows how firmly the
    suggested lists stand on the data behind the suggestion.

    Parameters
    ----------
    draws : pandas.DataFrame or array
        Long table with columns ``draw``, ``indicator``, ``stage``, ``points`` (indicators and
        stages not listed keep the framework's points), or an array of shape
        (n_draws, n_stages, n_indicators) in framework order.

    Notes
    -----
    With ``n_draws=None`` every draw is used once, in order; otherwise ``n_draws`` draws are
    resampled with replacement.
    """

    draws: pd.DataFrame | FloatArray

    def array(self, framework: Framework) -> FloatArray:
        """The draws as an array (n_draws, n_stages, n_indicators)."""
        base = points_array(framework)
        if not isinstance(self.draws, pd.DataFrame):
            arr = np.asarray(self.draws, dtype=np.float64)
            if arr.ndim != 3 or arr.shape[1:] != base.shape:
                raise ValueError(
                    MSG_POINTS_SHAPE.format(s=base.shape[0], k=base.shape[1], shape=arr.shape)
                )
            return arr
        table, stage_pos, ind_pos = _long_table(
            self.draws, framework, "draws", ["points"], ["draw"]
        )
        draw_codes, _ = pd.factorize(table["draw"], sort=True)
        out = np.repeat(base[None], int(draw_codes.max()) + 1 if len(table) else 0, axis=0)
        out[draw_codes, stage_pos, ind_pos] = table["points"].to_numpy(dtype=np.float64)
        return out

    def sample(
        self, framework: Framework, n_draws: int | None, rng: np.random.Generator
    ) -> FloatArray:
        """All draws (``n_draws=None``) or ``n_draws`` of them resampled with replacement."""
        arr = self.array(framework)
        if n_draws is None:
            return arr
        return arr[rng.integers(0, arr.shape[0], size=n_draws)]


@dataclass(frozen=True, eq=False)
class FromIntervals:
    """Points drawn independently within per-indicator-per-stage intervals (e.g. bootstrap CIs).

    ``FromIntervals(suggestion.points)`` reads the ``low`` / ``high`` columns of a suggestion.

    Parameters
    ----------
    intervals : pandas.DataFrame
        Long table with columns ``indicator``, ``stage``, ``low``, ``high``; entries not listed
        keep the framework's points.
    distribution : {"uniform", "normal"}, default "uniform"
        ``uniform`` on ``[low, high]``; ``normal`` reads each interval as the central ``level``
        interval of a normal distribution (clipped at 0).
    level : float, default 0.9
        Coverage of the intervals, for ``distribution="normal"``.
    """

    intervals: pd.DataFrame
    distribution: Literal["uniform", "normal"] = "uniform"
    level: float = 0.9
    default_draws: ClassVar[int] = DEFAULT_DRAWS

    def sample(
        self, framework: Framework, n_draws: int | None, rng: np.random.Generator
    ) -> FloatArray:
        """Draw ``n_draws`` points tables (default 1,000)."""
        n = self.default_draws if n_draws is None else n_draws
        table, stage_pos, ind_pos = _long_table(
            self.intervals, framework, "intervals", ["low", "high"]
        )
        low = table["low"].to_numpy(dtype=np.float64)
        high = table["high"].to_numpy(dtype=np.float64)
        bad = ~(low <= high)
        if bad.any():
            pairs = ", ".join(
                f"{i}@{s}"
                for i, s in zip(table["indicator"][bad][:5], table["stage"][bad][:5], strict=True)
            )
            raise ValueError(MSG_INTERVAL_ORDER.format(pairs=pairs))
        out = np.repeat(points_array(framework)[None], n, axis=0)
        if self.distribution == "uniform":
            values = low + (high - low) * rng.random((n, low.size))
        else:
            z = statistics.NormalDist().inv_cdf(0.5 + self.level / 2)
            values = np.maximum(
                rng.normal((low + high) / 2, (high - low) / (2 * z), size=(n, low.size)), 0.0
            )
        out[:, stage_pos, ind_pos] = values
        return out


def _sampler(weights: WeightSampler | str) -> WeightSampler:
    if isinstance(weights, str):
        if weights == "dirichlet":
            return Dirichlet()
        if weights == "jitter":
            return Jitter()
        raise ValueError(MSG_UNKNOWN_SAMPLER.format(name=weights))
    return weights


# --- scoring many points tables at once ------------------------------------------------------------


def score_draws(scores: ScoreResult, points: FloatArray) -> DrawScores:
    """Score a batch of points tables by re-using the fractions of ``scores`` (no raw data).

    The points are checked here; the scoring itself is :func:`calibrate.scoring.score_many`, the
    scorer's own arithmetic and seat rules.

    Parameters
    ----------
    scores : ScoreResult
        Scores of the framework on the enterprise table.
    points : array of shape (n_draws, n_stages, n_indicators)
        Points tables in framework order (see :func:`points_array`); ``points_array(framework)[None]``
        reproduces ``scores`` exactly.

    Returns
    -------
    DrawScores
    """
    return score_many(scores, _check_points(points, scores.framework))


def _check_points(points: Any, fw: Framework) -> FloatArray:
    arr = np.asarray(points, dtype=np.float64)
    shape = (len(fw.stages), len(fw.indicators))
    if arr.ndim != 3 or arr.shape[1:] != shape:
        raise ValueError(MSG_POINTS_SHAPE.format(s=shape[0], k=shape[1], shape=arr.shape))
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        found = ", ".join(repr(float(v)) for v in arr[bad][:5])
        raise ValueError(MSG_POINTS_VALUES.format(found=found))
    return arr


# --- the Monte-Carlo -----------------------------------------------------------------------------


def rank_uncertainty(
    framework: Framework | str,
    data: pd.DataFrame | None = None,
    *,
    weights: WeightSampler | str = "dirichlet",
    n_draws: int | None = None,
    seed: int | np.random.Generator | None = 0,
    level: float = 0.9,
    scores: ScoreResult | None = None,
    batch_size: int | None = None,
) -> RankUncertainty:
    """Rank intervals and list probabilities of every firm under uncertain weights.

    Parameters
    ----------
    framework : Framework or str
        The framework (or a shipped id / YAML path) whose points are perturbed.
    data : pandas.DataFrame, optional
        The enterprise table; not needed when ``scores`` are given.
    weights : sampler or {"dirichlet", "jitter"}, default "dirichlet"
        Where the points tables come from: :class:`Dirichlet`, :class:`Jitter`,
        :class:`FromDraws`, :class:`FromIntervals` or any :class:`WeightSampler`.
    n_draws : int, optional
        Number of points tables (default: 1,000, or every draw of a :class:`FromDraws`).
    seed : int or numpy.random.Generator or None, default 0
        Seed of the draws; the same seed gives the same result, whatever ``batch_size``.
    level : float, default 0.9
        Coverage of the rank interval: 0.9 = 5th to 95th percentile.
    scores : ScoreResult, optional
        Scores of ``framework`` on the data, to skip scoring.
    batch_size : int, optional
        Draws scored at once (default: about a million firm × draw cells per batch).

    Returns
    -------
    RankUncertainty
    """
    fw = load_framework(framework)
    if scores is None:
        if data is None:
            raise ValueError(MSG_NO_DATA)
        scores = score(fw, getattr(data, "frame", data))
    elif scores.framework is not fw and scores.framework != fw:
        raise ValueError(MSG_SCORES_FRAMEWORK.format(got=scores.framework.id, want=fw.id))
    if not 0.0 < level < 1.0:
        raise ValueError(MSG_LEVEL.format(level=level))
    if n_draws is not None and (not isinstance(n_draws, int | np.integer) or n_draws < 1):
        raise ValueError(MSG_N_DRAWS.format(n=n_draws))
    sampler = _sampler(weights)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    points = _check_points(sampler.sample(fw, n_draws, rng), fw)
    d = points.shape[0]
    if d < 1:
        raise ValueError(MSG_N_DRAWS.format(n=d))
    engine = DrawEngine(scores)
    n_ranked = engine.ranked.size
    batch = batch_size or max(1, min(d, BATCH_CELLS // max(engine.n, 1)))
    rank_dtype = np.uint16 if engine.max_group < 2**16 else np.uint32
    ranks = np.empty((n_ranked, d), dtype=rank_dtype)
    n_tiers = len(fw.tiers)
    tier_counts = np.zeros((n_ranked, n_tiers + 1), dtype=np.int64)  # last column: no list
    subsidy_counts = np.zeros(n_ranked, dtype=np.int64)
    rank_sum = np.zeros(n_ranked)
    for start in range(0, d, batch):
        chunk = points[start : start + batch]
        r = engine.ranks(engine.totals(chunk))  # (draws, ranked firms)
        ranks[:, start : start + chunk.shape[0]] = r.T
        rank_sum += r.sum(axis=0)
        tiers = engine.tiers(r)  # the scorer's seat and tie rules, per draw
        for k in range(n_tiers):
            tier_counts[:, k] += (tiers == k).sum(axis=0)
        if engine.subsidies:
            hit = np.zeros(r.shape, dtype=bool)
            d_win, f_win, _ = engine.winners(r)
            hit[d_win, f_win] = True
            subsidy_counts += hit.sum(axis=0)
    tier_counts[:, n_tiers] = d - tier_counts[:, :n_tiers].sum(axis=1)
    q_lo = (1.0 - level) / 2.0
    kth = [_order_stat(q, d) for q in (q_lo, 0.5, 1.0 - q_lo)]
    if n_ranked:
        if rank_dtype == np.uint16:
            ranks.sort(
                axis=1, kind="stable"
            )  # a radix sort for 16-bit values: faster than partition
        else:
            ranks.partition(sorted(set(kth)), axis=1)
        quantiles = ranks[:, kth].astype(np.int64)
    else:
        quantiles = np.zeros((0, 3), dtype=np.int64)
    return RankUncertainty(
        framework=fw,
        scores=scores,
        weights=sampler,
        points=points,
        seed=seed if not isinstance(seed, np.random.Generator) else None,
        level=level,
        _ranked=engine.ranked,
        _rank_quantiles=quantiles,
        _rank_mean=rank_sum / d,
        _tier_counts=tier_counts,
        _subsidy_counts=subsidy_counts,
    )


def _order_stat(q: float, n: int) -> int:
    """0-based order statistic of the empirical (inverted-CDF) quantile ``q`` of ``n`` values."""
    return int(min(max(math.ceil(q * n - 1e-9) - 1, 0), n - 1))


@dataclass(frozen=True, eq=False, repr=False)
class RankUncertainty:
    """Per-firm rank intervals and list probabilities from a Monte-Carlo over points weights.

    Build one with :func:`rank_uncertainty`.

    Attributes
    ----------
    framework : Framework
    scores : ScoreResult
        The unperturbed scores.
    weights : WeightSampler
        Where the draws came from.
    points : ndarray, shape (n_draws, n_stages, n_indicators)
        The drawn points tables (see :meth:`draws_table`).
    seed : int or None
    level : float
        Coverage of the rank interval.
    """

    framework: Framework
    scores: ScoreResult
    weights: WeightSampler
    points: FloatArray = field(repr=False)
    seed: int | None
    level: float
    _ranked: IntArray = field(repr=False)
    _rank_quantiles: IntArray = field(repr=False)
    _rank_mean: FloatArray = field(repr=False)
    _tier_counts: IntArray = field(repr=False)
    _subsidy_counts: IntArray = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"RankUncertainty(framework={self.framework.id!r}, n_firms={self.scores.n_firms}, "
            f"n_draws={self.n_draws}, weights={type(self.weights).__name__}, seed={self.seed!r})"
        )

    @property
    def n_draws(self) -> int:
        """Number of points tables drawn."""
        return int(self.points.shape[0])

    @property
    def tier_ids(self) -> list[str]:
        """List ids in framework order, then ``none``."""
        return [t.id for t in self.framework.tiers] + [NO_TIER]

    @cached_property
    def frame(self) -> pd.DataFrame:
        """One row per firm, input order: keys, stage, the unperturbed ``total``, ``rank`` and
        ``tier``; ``rank_low`` / ``rank_median`` / ``rank_high`` (the rank interval at ``level``;
        NA for vetoed firms), ``rank_mean``; ``p_<tier>`` for each list and ``p_none``;
        ``p_subsidy``; ``most_likely_tier`` and its probability ``p_most_likely`` (``vetoed``
        with probability 1 for vetoed firms)."""
        f = self.scores.frame
        n = len(f)
        keys = [
            c for c in f.columns if c in ("enterprise_id", "year", "park", "industry", "carrier")
        ]
        for c in self.framework.ranking_group:
            if c != "stage" and c not in keys:
                keys.append(c)
        out = f[[*keys, "stage", "total", "rank"]].copy()
        out["tier"] = (
            f["tier"].astype("string").fillna(NO_TIER).where(~f["vetoed"], VETOED).to_numpy()
        )
        r = self._ranked
        for i, name in enumerate(("rank_low", "rank_median", "rank_high")):
            col = pd.array(np.zeros(n, dtype=np.int64), dtype="Int64")
            col[:] = pd.NA
            col[r] = self._rank_quantiles[:, i]
            out[name] = col
        mean = np.full(n, np.nan)
        mean[r] = self._rank_mean
        out["rank_mean"] = mean
        probs = np.zeros((n, len(self.tier_ids)))
        probs[r] = self._tier_counts / self.n_draws
        vetoed = np.ones(n, dtype=bool)
        vetoed[r] = False
        probs[vetoed, -1] = 1.0
        for k, tid in enumerate(self.tier_ids):
            out[f"p_{tid}"] = probs[:, k]
        p_sub = np.zeros(n)
        p_sub[r] = self._subsidy_counts / self.n_draws
        out["p_subsidy"] = p_sub
        best = probs.argmax(axis=1)  # ties: the better list
        likely = np.asarray(self.tier_ids, dtype=object)[best]
        likely[vetoed] = VETOED
        out["most_likely_tier"] = likely
        out["p_most_likely"] = probs[np.arange(n), best]
        return out

    def to_frame(self) -> pd.DataFrame:
        """The per-firm table (:attr:`frame`)."""
        return self.frame

    @property
    def tier_probabilities(self) -> pd.DataFrame:
        """Probability of each list (and ``none``) per firm; rows sum to 1."""
        return self.frame[[f"p_{t}" for t in self.tier_ids]].rename(columns=lambda c: c[2:])

    @property
    def rank_interval(self) -> pd.DataFrame:
        """``rank_low``, ``rank_median``, ``rank_high`` per firm (NA for vetoed firms)."""
        return self.frame[["rank_low", "rank_median", "rank_high"]]

    def uncertain(self, threshold: float = 0.8) -> pd.DataFrame:
        """Firms whose most likely list has probability below ``threshold``: coin flips first.

        Parameters
        ----------
        threshold : float, default 0.8

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`frame`, sorted by ``p_most_likely`` (ascending), then stage and rank.
        """
        if not 0.0 < threshold <= 1.0:
            raise ValueError(MSG_THRESHOLD.format(threshold=threshold))
        f = self.frame
        sel = f[f["p_most_likely"] < threshold]
        order = np.lexsort(
            (
                sel["rank"].to_numpy(dtype=np.float64, na_value=np.inf),
                pd.Categorical(sel["stage"]).codes,
                sel["p_most_likely"].to_numpy(),
            )
        )
        return sel.iloc[order]

    def stability(self, threshold: float = 0.8) -> pd.DataFrame:
        """Per unperturbed tier (lists, ``none``): firms, mean probability of keeping that tier,
        firms whose most likely tier has probability below ``threshold`` and their share."""
        f = self.frame
        f = f[f["tier"] != VETOED]
        recs = []
        for tid in self.tier_ids:
            part = f[f["tier"] == tid]
            n = len(part)
            k = int((part["p_most_likely"] < threshold).sum())
            recs.append(
                {
                    "tier": tid,
                    "firms": n,
                    "p_keep": float(part[f"p_{tid}"].mean()) if n else math.nan,
                    "uncertain": k,
                    "share_uncertain": k / n if n else math.nan,
                }
            )
        return pd.DataFrame(recs).set_index("tier")

    def draws_table(self) -> pd.DataFrame:
        """The drawn points as a long table ``draw, indicator, stage, points`` (the
        :class:`FromDraws` format)."""
        d, s, k = self.points.shape
        grid = np.indices((d, s, k)).reshape(3, -1)
        return pd.DataFrame(
            {
                "draw": grid[0],
                "indicator": np.asarray(self.framework.indicator_ids, dtype=object)[grid[2]],
                "stage": np.asarray(self.framework.stage_ids, dtype=object)[grid[1]],
                "points": self.points.reshape(-1),
            }
        )

    def to_dict(self, threshold: float = 0.8) -> dict[str, Any]:
        """A JSON-ready summary: framework, sampler, draws, seed, level and :meth:`stability`."""
        stab = self.stability(threshold)
        return {
            "framework": {"id": self.framework.id, "fingerprint": self.framework.fingerprint},
            "weights": repr(self.weights)
            if not isinstance(self.weights, FromDraws | FromIntervals)
            else type(self.weights).__name__,
            "n_draws": self.n_draws,
            "seed": self.seed,
            "level": self.level,
            "threshold": threshold,
            "n_uncertain": int((self.frame["p_most_likely"] < threshold).sum()),
            "stability": {
                t: {
                    k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in row.items()
                }
                for t, row in stab.to_dict(orient="index").items()
            },
        }

    def write(self, out_dir: str | Path, fmt: Literal["csv", "parquet"] = "csv") -> dict[str, Path]:
        """Write ``rank_uncertainty`` (per firm), ``uncertain`` and ``sensitivity.json`` to ``out_dir``."""
        if fmt not in ("csv", "parquet"):
            raise ValueError(MSG_FORMAT.format(fmt=fmt))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for name, table in (("rank_uncertainty", self.frame), ("uncertain", self.uncertain())):
            path = out / f"{name}.{fmt}"
            table = table.reset_index(drop=True)
            if fmt == "csv":
                table.to_csv(path, index=False, encoding="utf-8")
            else:
                table.astype(
                    {c: "string" for c in table.columns if table[c].dtype == object}
                ).to_parquet(path, index=False)
            written[name] = path
        path = out / "sensitivity.json"
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        written["json"] = path
        return written
