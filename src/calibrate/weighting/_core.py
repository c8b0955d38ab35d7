"""Weights for a framework's core indicators from data (or judgements), and the framework they make."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.exceptions import DataContractError, Problem
from calibrate.framework import Framework, Name, Provenance
from calibrate.scoring import ScoreResult, score
from calibrate.weighting._ahp import MAX_CR, AHPMatrix
from calibrate.weighting._methods import (
    DEFAULT_VARIANCE,
    DegenerateError,
    Diagnostics,
    critic_diagnosed,
    cv_diagnosed,
    entropy_diagnosed,
    equal_weights,
    pca_diagnosed,
)
from calibrate.weighting._rounding import Rounding, largest_remainder, unit_of

__all__ = [
    "BASELINES",
    "METHODS",
    "Weights",
    "all_baselines",
    "baseline",
    "compute_weights",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Basis: TypeAlias = Literal["fraction", "minmax"]
Method: TypeAlias = Literal["equal", "entropy", "critic", "cv", "pca", "ahp"]


@dataclass(frozen=True)
class _MethodInfo:
    zh: str
    en: str
    formulation: str
    uses_data: bool


#: The methods, with their Chinese and English names and the formula each applies.
METHODS: dict[str, _MethodInfo] = {
    "equal": _MethodInfo(
        "等权法", "equal weights", "w_j = 1 / k over the k core indicators", False
    ),
    "entropy": _MethodInfo(
        "熵权法",
        "entropy weight method",
        "p_ij = x_ij / sum_i x_ij; e_j = -(1 / ln n) sum_i p_ij ln p_ij (0 ln 0 = 0); d_j = 1 - e_j; "
        "w_j = d_j / sum_k d_k",
        True,
    ),
    "critic": _MethodInfo(
        "CRITIC法",
        "CRITIC",
        "C_j = sigma_j * sum_k (1 - r_jk) (population sigma, Pearson r; r = 0 with a constant column); "
        "w_j = C_j / sum_k C_k",
        True,
    ),
    "cv": _MethodInfo(
        "变异系数法",
        "coefficient of variation",
        "v_j = sigma_j / mu_j (population sigma); w_j = v_j / sum_k v_k",
        True,
    ),
    "pca": _MethodInfo(
        "主成分分析法",
        "principal component analysis",
        "eigen-decompose the correlation matrix; keep the first m components reaching the variance "
        "share; c_j = sum_m |u_jm| s_m / sum_m s_m (u: unit eigenvectors = loading / sqrt(lambda), "
        "s: explained shares); w_j = c_j / sum_k c_k",
        True,
    ),
    "ahp": _MethodInfo(
        "层次分析法",
        "analytic hierarchy process",
        "principal eigenvector of the Saaty pairwise comparison matrix; CI = (lambda_max - n) / (n - 1); "
        "CR = CI / RI (Saaty 1980) <= 0.10; hierarchy: group weight x weight within the group",
        False,
    ),
}

#: The data-driven methods :func:`all_baselines` always computes (plus ``equal``, and ``ahp`` when a
#: comparison file is given).
BASELINES: tuple[str, ...] = ("equal", "entropy", "critic", "cv", "pca")

BONUS_NOTE = "bonus indicators are not re-weighted: they keep the base framework's points and caps"

MSG_METHOD = "unknown weighting method {found!r}; methods are {methods}"
MSG_BASIS = "basis must be 'fraction' or 'minmax', found {found!r}"
MSG_NO_DATA = "the {method} method computes weights from data; pass the enterprise table"
MSG_NO_MATRIX = (
    "the ahp method needs the pairwise comparisons: pass matrix= (an AHPMatrix or a YAML path)"
)
MSG_MINMAX_RAW = "basis='minmax' needs the raw enterprise table, not a ScoreResult"
MSG_FEW_FIRMS = (
    "{where} has {n} firm(s); {method} weights need at least 2 firms per stage — add firms or pass "
    "same_across_stages=True"
)
MSG_DEGENERATE = (
    "{method} gives every core indicator weight 0 among the {n} firms of {where} (no indicator "
    "varies{extra}); add firms, pass same_across_stages=True, or use equal weights"
)
MSG_OTHER_FRAMEWORK = (
    "the ScoreResult was scored with framework {found!r}, not {expected!r}; score the data with the "
    "framework you weight"
)

POOLED = "all"


# --- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Weights:
    """Weights of one method for a framework's core indicators, per stage.

    Attributes
    ----------
    method : str
        ``equal``, ``entropy``, ``critic``, ``cv``, ``pca`` or ``ahp``.
    framework : Framework
        The base framework (rules, bonus indicators and everything else come from it).
    by_stage : pandas.DataFrame
        Weight per core indicator (rows, framework order) and stage (columns); each column sums to 1.
    points : pandas.DataFrame
        ``core_budget × weight``, rounded as asked; each column sums to the core budget exactly.
    basis : {"fraction", "minmax"} or None
        What the data method saw (``None`` for ``equal`` and ``ahp``).
    rounding : {"whole", "half"} or None
    same_across_stages : bool
        True when computed on all firms pooled (one weight vector for every stage).
    n_firms : pandas.Series
        Firms per stage the weights were computed from (empty for ``equal`` and ``ahp``).
    data_fingerprint : str or None
        SHA-256 (16 hex digits) of the basis, the firm × core-indicator matrix and every firm's
        stage: same data and base framework, same fingerprint.
    diagnostics : pandas.DataFrame
        Long form, one row per (stage, indicator): the weight and the method's intermediate
        quantities (entropy and divergence; σ, conflict and information; μ, σ and CV; PCA
        coefficient; AHP weights by level).
    zero_weight : pandas.DataFrame
        Indicators that got weight 0 and why (``stage``, ``indicator``, ``reason``).
    details : mapping
        Method extras, YAML-ready (PCA components kept per stage; the AHP file, fingerprint and
        consistency).
    base_fingerprint : str
        ``framework.fingerprint``, computed once (it serialises the framework).
    """

    method: str
    framework: Framework
    by_stage: pd.DataFrame
    points: pd.DataFrame
    basis: str | None
    rounding: Rounding
    same_across_stages: bool
    n_firms: pd.Series
    data_fingerprint: str | None
    diagnostics: pd.DataFrame = field(repr=False)
    zero_weight: pd.DataFrame = field(repr=False)
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)
    base_fingerprint: str = ""

    @property
    def name(self) -> tuple[str, str]:
        """Chinese and English name of the method."""
        info = METHODS[self.method]
        return info.zh, info.en

    @property
    def notes(self) -> tuple[str, ...]:
        """Sentences for a report: zero weights and the bonus rule."""
        out = [
            f"{r['indicator']} gets weight 0 in {_stage_label(str(r['stage']))}: {r['reason']}"
            for r in self.zero_weight.to_dict("records")
        ]
        out.append(BONUS_NOTE)
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """One row per (stage, core indicator): names, weight, points."""
        fw = self.framework
        weights, points = _nested(self.by_stage), _nested(self.points)
        rows = []
        for s in fw.stage_ids:
            for ident in weights:
                ind = fw.indicator(ident)
                rows.append(
                    {
                        "stage": s,
                        "indicator": ident,
                        "name_zh": ind.name.zh,
                        "name_en": ind.name.en,
                        "weight": weights[ident][s],
                        "points": points[ident][s],
                    }
                )
        return pd.DataFrame(rows)

    def calibration(self) -> dict[str, Any]:
        """The ``calibration`` block of :meth:`to_framework` (plain, YAML-ready values)."""
        info = METHODS[self.method]
        fw = self.framework
        block: dict[str, Any] = {
            "kind": "baseline",
            "method": self.method,
            "method_name": {"zh": info.zh, "en": info.en},
            "formulation": info.formulation,
            "base": {
                "id": fw.id,
                "version": fw.version,
                "fingerprint": self.base_fingerprint or fw.fingerprint,
            },
            "data_fingerprint": self.data_fingerprint,
        }
        if info.uses_data:
            block["basis"] = self.basis
            block["basis_note"] = (
                "each rule's fraction in [0, 1] is the method's normalisation step"
                if self.basis == "fraction"
                else "raw values min-max normalised (smaller-is-better indicators reversed); missing values 0"
            )
            block["same_across_stages"] = self.same_across_stages
            block["n_firms"] = {str(k): int(v) for k, v in self.n_firms.items()}
        block["rounding"] = self.rounding
        block["bonus"] = BONUS_NOTE
        block["weights"] = _nested(self.by_stage)
        if len(self.zero_weight):
            block["zero_weight"] = [
                {
                    "stage": str(r["stage"]),
                    "indicator": str(r["indicator"]),
                    "reason": str(r["reason"]),
                }
                for r in self.zero_weight.to_dict("records")
            ]
        if self.details:
            block["details"] = _plain(self.details)
        return block

    def to_framework(self, *, id: str | None = None, version: str | None = None) -> Framework:
        """The base framework with these core points: same schema, scorable and comparable.

        Parameters
        ----------
        id : str, optional
            Defaults to ``<base id>.<method>`` (e.g. ``longwan-2022.entropy``; the framework id
            pattern admits letters, digits, ``_``, ``.`` and ``-``).
        version : str, optional
            Defaults to ``<base version>+<method>``, followed by ``.<first 8 digits of the data
            fingerprint>`` for the data methods or of the comparison fingerprint for ``ahp``.

        Returns
        -------
        Framework
            Provenance ``reconstructed`` with the method as reasoning; every core indicator's
            provenance says its points come from the method (its rule is unchanged); bonus
            indicators, penalties, stages, tiers and subsidies are the base framework's; a
            ``calibration`` block records the method, basis, data fingerprint and raw weights.
        """
        fw = self.framework
        info = METHODS[self.method]
        ahp = self.details.get("ahp")
        source_fp = self.data_fingerprint or (ahp["fingerprint"] if ahp else None)
        suffix = f".{source_fp[:8]}" if source_fp else ""
        new_id = id or f"{fw.id}.{self.method}"
        new_version = version or f"{fw.version}+{self.method}{suffix}"
        data_text = (
            f" computed from {int(self.n_firms.sum())} firms (data {self.data_fingerprint}, "
            f"{'pooled over stages' if self.same_across_stages else 'per stage'}, basis {self.basis})"
            if info.uses_data
            else ""
        )
        reasoning = (
            f"{info.en} ({info.zh}) baseline of {fw.id} {fw.version}{data_text}: core points per "
            f"stage = core budget {fw.core_budget:g} × weight; {BONUS_NOTE}"
        )
        points = _nested(self.points)
        weighted = fw.with_points(
            points,
            id=new_id,
            version=new_version,
            name=Name(zh=f"{fw.name.zh}（{info.zh}基准）", en=f"{fw.name.en} ({info.en} baseline)"),
            provenance=Provenance(status="reconstructed", reasoning=reasoning),
            description=f"Unsupervised {info.en} ({info.zh}) baseline of {fw.id}: {info.formulation}.",
            calibration=self.calibration(),
        )
        document = weighted.to_dict()
        core = set(fw.core_indicator_ids)
        for item in document["indicators"]:
            if item["id"] not in core:
                continue
            old = item["provenance"]
            why = f"points from the {info.en} ({info.zh}) baseline; rule unchanged from {fw.id}"
            if old.get("reasoning"):
                why += f" (in {fw.id}: {old['reasoning']})"
            item["provenance"] = {
                "status": "reconstructed",
                **({"source": old["source"]} if "source" in old else {}),
                "reasoning": why,
            }
        return Framework.from_document(document, f"framework {new_id} ({self.method} baseline)")


def _nested(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``{indicator: {stage: value}}`` from an indicator × stage table, as plain floats."""
    values = frame.to_numpy(dtype=np.float64)
    return {
        str(i): {str(s): float(values[r, c]) for c, s in enumerate(frame.columns)}
        for r, i in enumerate(frame.index)
    }


def _stage_label(stage: str) -> str:
    return "all stages (pooled)" if stage == POOLED else f"stage {stage}"


def _plain(value: Any) -> Any:
    """numpy scalars and tuples → plain Python for YAML."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value


# --- data preparation --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Prepared:
    """The firm × core-indicator matrix a data method works on, with stages and fingerprint."""

    matrix: FloatArray  # fractions, or raw values oriented larger-is-better (NaN = missing)
    stage_index: IntArray
    basis: str
    fingerprint: str
    source: str

    def block(self, rows: npt.NDArray[np.bool_]) -> FloatArray:
        x = self.matrix[rows]
        if self.basis == "fraction":
            return x
        return _minmax(x)


def _minmax(x: FloatArray) -> FloatArray:
    """Min-max normalise each column to [0, 1]; missing → 0; a constant or empty column → 0."""
    present = ~np.isnan(x)
    lo = np.where(present, x, np.inf).min(axis=0)
    hi = np.where(present, x, -np.inf).max(axis=0)
    span = hi - lo
    ok = np.isfinite(span) & (span > 0)
    safe_lo = np.where(ok, lo, 0.0)
    safe_span = np.where(ok, span, 1.0)
    z = (np.where(present, x, safe_lo) - safe_lo) / safe_span
    z[:, ~ok] = 0.0
    return np.clip(z, 0.0, 1.0)


def _prepare(
    framework: Framework, data: pd.DataFrame | ScoreResult, basis: str, source: str
) -> _Prepared:
    if basis not in ("fraction", "minmax"):
        raise ValueError(MSG_BASIS.format(found=basis))
    core = framework.core_indicator_ids
    if isinstance(data, ScoreResult):
        if data.framework != framework:
            raise ValueError(
                MSG_OTHER_FRAMEWORK.format(found=data.framework.id, expected=framework.id)
            )
        if basis == "minmax":
            raise ValueError(MSG_MINMAX_RAW)
        result = data
    else:
        result = score(framework, data, source=source)
    positions = [framework.indicator_ids.index(i) for i in core]
    if basis == "fraction":
        matrix = np.ascontiguousarray(result.fractions[:, positions], dtype=np.float64)
    else:
        assert isinstance(data, pd.DataFrame)
        cols = []
        for ident in core:
            series = data[ident]
            values = (
                series.to_numpy(dtype=np.float64)
                if series.dtype == bool
                else pd.to_numeric(series, errors="raise").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            )
            cols.append(values * framework.indicator(ident).direction)
        matrix = np.ascontiguousarray(np.column_stack(cols), dtype=np.float64)
    stage_index = np.asarray(result.stage_index, dtype=np.int64)
    digest = hashlib.sha256()
    digest.update(f"{basis}|{','.join(core)}|{matrix.shape}".encode())
    digest.update(matrix.astype("<f8").tobytes())
    digest.update(stage_index.astype("<i8").tobytes())
    return _Prepared(matrix, stage_index, basis, digest.hexdigest()[:16], source)


# --- the driver ----------------------------------------------------------------------------------

_DATA_METHODS: dict[str, Callable[..., tuple[FloatArray, Diagnostics]]] = {
    "entropy": entropy_diagnosed,
    "critic": critic_diagnosed,
    "cv": cv_diagnosed,
    "pca": pca_diagnosed,
}


def _zero_reason(x: FloatArray, j: int, method: str) -> str:
    col = x[:, j]
    n = col.size
    if not col.any():
        return f"every one of the {n} firms has 0"
    if col.max() == col.min():
        return f"every one of the {n} firms has the same value {col[0]:g}"
    if method == "pca":
        return "it loads on none of the principal components kept"
    return "perfectly correlated with every other indicator (no conflict)"  # CRITIC


def _per_group(
    method: str,
    prepared: _Prepared,
    framework: Framework,
    same_across_stages: bool,
    variance: float,
) -> tuple[pd.DataFrame, pd.Series, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    core = framework.core_indicator_ids
    stages = framework.stage_ids
    if same_across_stages:
        groups = [(POOLED, np.ones(prepared.stage_index.size, dtype=bool))]
    else:
        groups = [(s, prepared.stage_index == pos) for pos, s in enumerate(stages)]
    info = METHODS[method]
    problems: list[Problem] = []
    weights: dict[str, FloatArray] = {}
    counts: dict[str, int] = {}
    diag_rows: list[dict[str, Any]] = []
    zero_rows: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    fn = _DATA_METHODS[method]
    for label, rows in groups:
        n = int(rows.sum())
        counts[label] = n
        where = _stage_label(label)
        if n < 2:
            problems.append(
                Problem(
                    f"{prepared.source}, {where}",
                    MSG_FEW_FIRMS.format(where=where, n=n, method=info.en),
                )
            )
            continue
        x = prepared.block(rows)
        try:
            w, diag = fn(x, variance) if method == "pca" else fn(x)
        except DegenerateError:
            extra = ", or they are perfectly correlated" if method == "critic" else ""
            problems.append(
                Problem(
                    f"{prepared.source}, {where}",
                    MSG_DEGENERATE.format(method=info.en, n=n, where=where, extra=extra),
                )
            )
            continue
        weights[label] = w
        per_indicator = {k: v for k, v in diag.items() if v.shape == (len(core),)}
        for j, ident in enumerate(core):
            diag_rows.append(
                {
                    "stage": label,
                    "indicator": ident,
                    "weight": float(w[j]),
                    **{k: float(v[j]) for k, v in per_indicator.items()},
                }
            )
            if w[j] == 0.0:
                zero_rows.append(
                    {"stage": label, "indicator": ident, "reason": _zero_reason(x, j, method)}
                )
        if method == "pca":
            kept = int(diag["components"][0])
            explained = float(diag["explained"][:kept].sum())
            pca = details.setdefault("pca", {"variance": float(variance), "by_stage": {}})
            pca["by_stage"][label] = {"components": kept, "explained": explained}
    if problems:
        raise DataContractError(prepared.source, problems)
    if same_across_stages:
        table = pd.DataFrame({s: weights[POOLED] for s in stages}, index=list(core))
    else:
        table = pd.DataFrame(weights, index=list(core))[list(stages)]
    return table, pd.Series(counts, name="n_firms", dtype="int64"), diag_rows, zero_rows, details


def _points(table: pd.DataFrame, budget: float, rounding: Rounding) -> pd.DataFrame:
    unit = unit_of(rounding)
    out = {}
    for s in table.columns:
        raw = table[s].to_numpy(dtype=np.float64) * budget
        out[s] = raw if unit is None else largest_remainder(raw, budget, unit)
    return pd.DataFrame(out, index=table.index)


def compute_weights(  # noqa: PLR0913 - weighting options mirror the baseline methods' parameters
    framework: Framework,
    data: pd.DataFrame | ScoreResult | None,
    method: str,
    *,
    basis: Basis = "fraction",
    same_across_stages: bool = False,
    rounding: Rounding = None,
    variance: float = DEFAULT_VARIANCE,
    matrix: AHPMatrix | str | Path | None = None,
    max_cr: float = MAX_CR,
    source: str = "<data>",
) -> Weights:
    """Weights of the core indicators of ``framework`` by one unsupervised method.

    Parameters
    ----------
    framework : Framework
        The base framework. Its rules turn raw values into fractions; only the points of its core
        indicators change. Bonus indicators keep their points (their group cap governs them).
    data : DataFrame, ScoreResult or None
        The enterprise table (scored once with ``framework``), or a :class:`ScoreResult` of
        ``framework`` to reuse. Not needed for ``equal`` and ``ahp``.
    method : {"equal", "entropy", "critic", "cv", "pca", "ahp"}
    basis : {"fraction", "minmax"}
        ``fraction`` (default): the methods run on each rule's fraction in [0, 1]. The rule *is*
        the standard normalisation step of these methods (it maps the raw value onto [0, 1],
        larger is better), so the weights are about the indicators as the policy measures them.
        ``minmax``: raw values min-max normalised within the stage instead (smaller-is-better
        indicators reversed; a missing value becomes 0, the worst).
    same_across_stages : bool
        Compute one weight vector on all firms pooled and use it in every stage; default: each
        stage on its own firms (stages are ranked separately, so their data differ).
    rounding : {"whole", "half"} or None
        Round points to whole or half points, keeping each stage's core sum exactly equal to
        the budget (largest-remainder method; ties go to the earlier indicator). ``None`` keeps
        ``core_budget × weight`` unrounded.
    variance : float
        PCA only: the cumulative explained-variance share the kept components must reach.
    matrix : AHPMatrix, str or Path
        AHP only: the comparisons, or the path of a comparison YAML file.
    max_cr : float
        AHP only: refuse a consistency ratio above this (Saaty's 0.10).
    source : str
        Name of the data in messages.

    Returns
    -------
    Weights

    Raises
    ------
    DataContractError
        A stage with fewer than 2 firms, or one where no core indicator varies (every weight
        would be 0) — every such stage listed; also the scorer's own data errors.
    AHPError
        An invalid comparison file, ids that are not the framework's core indicators or groups,
        or a consistency ratio above ``max_cr``.
    ValueError
        An unknown method, basis or rounding option, or a budget that rounding cannot keep.

    Notes
    -----
    Per stage s, with ``X`` the firms of s × core indicators: ``w = method(X)`` and
    ``points[s] = core_budget × w``. The formulas are in :mod:`calibrate.weighting`. Vetoed
    firms are included (their indicator values are still observations).
    """
    if method not in METHODS:
        raise ValueError(MSG_METHOD.format(found=method, methods=", ".join(METHODS)))
    if basis not in ("fraction", "minmax"):
        raise ValueError(MSG_BASIS.format(found=basis))
    unit_of(rounding)  # validate early
    prepared = None
    if METHODS[method].uses_data:
        if data is None:
            raise ValueError(MSG_NO_DATA.format(method=method))
        prepared = _prepare(framework, data, basis, source)
    return _compute(
        framework,
        method,
        prepared,
        same_across_stages=same_across_stages,
        rounding=rounding,
        variance=variance,
        matrix=matrix,
        max_cr=max_cr,
        base_fingerprint=framework.fingerprint,
    )


def _compute(  # noqa: PLR0913 - weighting options mirror the baseline methods' parameters
    framework: Framework,
    method: str,
    prepared: _Prepared | None,
    *,
    same_across_stages: bool,
    rounding: Rounding,
    variance: float,
    matrix: AHPMatrix | str | Path | None,
    max_cr: float,
    base_fingerprint: str,
) -> Weights:
    core = framework.core_indicator_ids
    stages = framework.stage_ids
    details: dict[str, Any] = {}
    diag_rows: list[dict[str, Any]] = []
    zero_rows: list[dict[str, Any]] = []
    n_firms = pd.Series(dtype="int64", name="n_firms")
    fingerprint = None
    used_basis: str | None = None
    if prepared is not None:
        table, n_firms, diag_rows, zero_rows, details = _per_group(
            method, prepared, framework, same_across_stages, variance
        )
        fingerprint = prepared.fingerprint
        used_basis = prepared.basis
    elif method == "equal":
        w = equal_weights(len(core))
        table = pd.DataFrame({s: w for s in stages}, index=list(core))
        diag_rows = [
            {"stage": POOLED, "indicator": i, "weight": float(w[j])} for j, i in enumerate(core)
        ]
    else:
        if matrix is None:
            raise ValueError(MSG_NO_MATRIX)
        ahp = matrix if isinstance(matrix, AHPMatrix) else AHPMatrix.from_yaml(matrix, max_cr=None)
        ahp.validate(framework).check(max_cr)
        w_series = ahp.indicator_weights(framework)
        w = w_series.to_numpy(dtype=np.float64)
        table = pd.DataFrame({s: w for s in stages}, index=list(core))
        details = {"ahp": ahp.summary()}
        for ident in core:
            row: dict[str, Any] = {
                "stage": POOLED,
                "indicator": ident,
                "weight": float(w_series[ident]),
            }
            if ahp.is_hierarchy:
                g = framework.indicator(ident).group
                row["group_weight"] = float(ahp.weights[g])
                row["within_weight"] = (
                    float(ahp.within[g].weights[ident]) if g in ahp.within else 1.0
                )
            diag_rows.append(row)
        zero_rows = []  # Saaty's scale has no 0: every weight is positive
    table.index.name = "indicator"
    table.columns.name = "stage"
    points = _points(table, framework.core_budget, rounding)
    points.index.name = "indicator"
    points.columns.name = "stage"
    return Weights(
        method=method,
        framework=framework,
        by_stage=table,
        points=points,
        basis=used_basis,
        rounding=rounding,
        same_across_stages=bool(same_across_stages) if prepared is not None else True,
        n_firms=n_firms,
        data_fingerprint=fingerprint,
        diagnostics=pd.DataFrame(diag_rows),
        zero_weight=pd.DataFrame(zero_rows, columns=["stage", "indicator", "reason"]),
        details=details,
        base_fingerprint=base_fingerprint,
    )


def baseline(
    framework: Framework, data: pd.DataFrame | ScoreResult | None, method: str, **kwargs: Any
) -> Framework:
    """A baseline framework: :func:`compute_weights` then :meth:`Weights.to_framework`.

    Parameters
    ----------
    framework : Framework
    data : DataFrame, ScoreResult or None
    method : {"equal", "entropy", "critic", "cv", "pca", "ahp"}
    **kwargs
        Options of :func:`compute_weights` (``basis``, ``same_across_stages``, ``rounding``,
        ``variance``, ``matrix``, ``max_cr``, ``source``).

    Returns
    -------
    Framework
        Id ``<base id>.<method>``; see :meth:`Weights.to_framework`.

    Examples
    --------
    >>> entropy = baseline(load_framework("longwan-2022"), table, "entropy", rounding="whole")  # doctest: +SKIP
    >>> entropy.id  # doctest: +SKIP
    'longwan-2022.entropy'
    """
    return compute_weights(framework, data, method, **kwargs).to_framework()


def all_baselines(
    framework: Framework,
    data: pd.DataFrame,
    *,
    ahp: AHPMatrix | str | Path | None = None,
    basis: Basis = "fraction",
    same_across_stages: bool = False,
    rounding: Rounding = None,
    variance: float = DEFAULT_VARIANCE,
    source: str = "<data>",
) -> dict[str, Framework]:
    """Every baseline for a review panel: equal, entropy, CRITIC, CV, PCA (and AHP when given).

    The data are scored once and shared by the methods.

    Parameters
    ----------
    framework : Framework
    data : DataFrame
        The enterprise table.
    ahp : AHPMatrix, str or Path, optional
        Pairwise comparisons; adds the ``ahp`` baseline.
    basis, same_across_stages, rounding, variance, source
        As in :func:`compute_weights`.

    Returns
    -------
    dict of str to Framework
        ``{"equal": …, "entropy": …, "critic": …, "cv": …, "pca": …[, "ahp": …]}``.
    """
    unit_of(rounding)
    prepared = _prepare(framework, data, basis, source)  # scored once, shared by every method
    out: dict[str, Framework] = {}
    base_fingerprint = framework.fingerprint
    for method in (*BASELINES, *(("ahp",) if ahp is not None else ())):
        out[method] = _compute(
            framework,
            method,
            prepared if METHODS[method].uses_data else None,
            same_across_stages=same_across_stages,
            rounding=rounding,
            variance=variance,
            matrix=ahp,
            max_cr=MAX_CR,
            base_fingerprint=base_fingerprint,
        ).to_framework()
    return out
