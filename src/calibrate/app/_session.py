"""The workbench's state: the framework loaded at start, the edited candidate, and its comparison.

No web framework here: :class:`Workbench` is plain Python that the page (``_page.py``), the
benchmark and the tests drive alike. It computes nothing of its own — every number comes from
:func:`calibrate.scoring.rescore`, :func:`calibrate.compare.compare`, :mod:`calibrate.explain` and
the framework's own validation; the workbench only turns a cell edit into a framework edit and
keeps what is current.

Edits
-----
* **points** (any indicator, any stage) go through :meth:`Framework.with_points`, so count rules
  and points-valued bands keep every firm's fraction. Core points must add up to the core budget
  in every stage (the framework's own rule); a points edit that leaves a stage off budget is kept
  as a *draft*: it is shown with the points-sum state and scored as soon as the sums balance.
* **goalposts** (``low`` / ``high`` of a linear rule, per stage), **list fractions** and
  **subsidies** (top fraction, amount, seat cap) are applied to the framework document and
  validated by :meth:`Framework.from_document`.

A refused edit changes nothing and returns the framework's own messages (with their YAML paths).
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibrate import metrics
from calibrate._io import write_workbook
from calibrate.compare import DEFAULT_TOP, Comparison, compare
from calibrate.exceptions import CalibrateError, FrameworkError
from calibrate.framework import Framework, LinearRule
from calibrate.scoring import ScoreResult, rescore, score

__all__ = ["Baseline", "EditOutcome", "EvaluationYears", "View", "Workbench"]

#: The YAML path the framework's parser gives a core-budget problem (``indicators[*].points.<stage>``).
BUDGET_PATH = "indicators[*].points."

#: Entrants and leavers listed on the page (all of them go to the saved workbook).
MAX_MOVERS = 200

MSG_NO_STEP = "step {step} is not on the edit path; steps run from 0 to {last}"
MSG_STEP_NO_POINTS = (
    "step {step} of the edit path carries no points table; showing the whole suggestion"
)
MSG_NO_SUCH_FIRM = "no firm {eid!r} in the data; check the enterprise id"
MSG_NOT_LINEAR = "indicator {ind!r} has a {kind} rule; only linear rules have goalposts"


@dataclass(frozen=True)
class View:
    """What the page shows after an edit (see :meth:`Workbench.view`)."""

    overall: pd.Series
    lists: pd.DataFrame
    movers: pd.DataFrame
    n_movers: int
    subsidies: pd.DataFrame
    outcomes: pd.DataFrame | None
    years: EvaluationYears
    budget: pd.DataFrame


@dataclass(frozen=True)
class EvaluationYears:
    """Which labelled years the outcome metrics use, and whether they are held out.

    ``held_out`` is True only when a loaded suggestion names its training years and the years
    used exclude them; otherwise the metrics are on years that nothing here was fitted on, but
    that the user sees while editing (not a held-out test).
    """

    years: tuple[int, ...]
    excluded: tuple[int, ...] = ()
    held_out: bool = False


@dataclass(frozen=True, eq=False)
class Baseline:
    """What every browser session shares: the framework loaded at start, the data, its scores.

    Parameters
    ----------
    framework : Framework
    data : pandas.DataFrame
    labels : pandas.Series, optional
        Outcome label per row (1, 0, NA), from :func:`calibrate.outcomes.make_labels`.
    target : str, optional
    horizon : int
    source : str
        Name of the data in messages.
    """

    framework: Framework
    data: pd.DataFrame
    labels: pd.Series | None = None
    target: str | None = None
    horizon: int = 1
    source: str = "<data>"
    scores: ScoreResult = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", score(self.framework, self.data, source=self.source))

    @classmethod
    def from_events(
        cls,
        framework: Framework,
        data: pd.DataFrame,
        events: pd.DataFrame | None,
        target: str | None,
        horizon: int = 1,
        source: str = "<data>",
    ) -> Baseline:
        """Labels made from an events table by :func:`calibrate.outcomes.make_labels`."""
        labels = None
        if events is not None and target is not None:
            from calibrate.outcomes import make_labels

            labels = make_labels(data, events, target, horizon).frame["label"]
        return cls(framework, data, labels, target, horizon, source)


@dataclass(frozen=True)
class EditOutcome:
    """What an edit did: ``status`` is ``scored``, ``draft`` (off budget) or ``refused``."""

    status: str
    problems: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "scored"


def _problems(exc: CalibrateError) -> tuple[str, ...]:
    found = getattr(exc, "problems", None)
    if not found:
        return (str(exc),)
    return tuple(f"{p.where}: {p.message}" for p in found)


def _budget_only(exc: FrameworkError) -> bool:
    found = getattr(exc, "problems", ())
    return bool(found) and all(str(p.where).startswith(BUDGET_PATH) for p in found)


class Workbench:
    """One user's what-if session over a :class:`Baseline`.

    Attributes
    ----------
    baseline : Baseline
    candidate : Framework
        The last edited framework that validated and was scored.
    comparison : Comparison
        ``candidate`` against the framework loaded at start.
    draft : dict
        Points edits waiting for the core sums to balance: ``{indicator: {stage: points}}``.
    suggestion : Framework or None
        A loaded suggested framework (its ``calibration.edits`` is the edit path).
    """

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self.candidate = baseline.framework
        self.candidate_scores = baseline.scores
        self.draft: dict[str, dict[str, float]] = {}
        self.suggestion: Framework | None = None
        self.comparison = self._compare()
        self.last = EditOutcome("scored")
        self._metrics_cache: dict[tuple[str, ...], dict[str, float]] = {}

    # -- scoring ----------------------------------------------------------------------------------
    def _compare(self, *, with_labels: bool = False) -> Comparison:
        b = self.baseline
        return compare(
            b.framework,
            self.candidate,
            b.data,
            labels=self.labels() if with_labels else None,
            target=b.target,
            horizon=b.horizon,
            base_scores=b.scores,
            candidate_scores=self.candidate_scores,
        )

    def full_comparison(self) -> Comparison:
        """:attr:`comparison` with the outcome labels of the evaluation years attached (what a
        save writes). Edits compare without them: the page's outcome metrics come from
        :meth:`outcome_metrics`, which re-uses what has not changed."""
        return self._compare(with_labels=True)

    def labels(self) -> pd.Series | None:
        """Outcome labels of the evaluation years (others NA), or None without events."""
        lab = self.baseline.labels
        if lab is None:
            return None
        excluded = self.evaluation_years.excluded
        if not excluded:
            return lab
        years = self.baseline.data["year"].to_numpy()
        return lab.mask(np.isin(years, excluded))

    @property
    def evaluation_years(self) -> EvaluationYears:
        """The labelled years the outcome metrics use (see :class:`EvaluationYears`)."""
        lab = self.baseline.labels
        if lab is None:
            return EvaluationYears(())
        years = self.baseline.data["year"].to_numpy()
        labelled = sorted({int(y) for y in np.unique(years[lab.notna().to_numpy()])})
        train = self.train_years
        used = tuple(y for y in labelled if y not in train)
        excluded = tuple(y for y in labelled if y in train)
        return EvaluationYears(used, excluded, held_out=bool(train) and bool(used))

    @property
    def train_years(self) -> tuple[int, ...]:
        """Training years the loaded suggestion declares (``calibration.train_years``)."""
        if self.suggestion is None or not self.suggestion.calibration:
            return ()
        years = self.suggestion.calibration.get("train_years") or ()
        return tuple(int(y) for y in years)

    def apply(self, framework: Framework) -> EditOutcome:
        """Make ``framework`` the candidate: re-score (re-using fractions) and re-compare."""
        start = time.perf_counter()
        self.candidate_scores = rescore(
            self.candidate_scores, framework, self.baseline.data, source=self.baseline.source
        )
        self.candidate = framework
        self.comparison = self._compare()
        self.last = EditOutcome("scored", seconds=time.perf_counter() - start)
        return self.last

    def _try(self, build: Callable[[], Framework]) -> EditOutcome:
        try:
            framework = build()
        except FrameworkError as exc:
            status = "draft" if _budget_only(exc) else "refused"
            self.last = EditOutcome(status, _problems(exc))
            return self.last
        except (CalibrateError, KeyError, ValueError, TypeError) as exc:
            self.last = EditOutcome("refused", (str(exc),))
            return self.last
        return self.apply(framework)

    # -- edits ------------------------------------------------------------------------------------
    def set_points(self, indicator: str, stage: str, value: float) -> EditOutcome:
        """Set one indicator's points in one stage (kept as a draft while a stage is off budget)."""
        pending = copy.deepcopy(self.draft)
        pending.setdefault(indicator, {})[stage] = float(value)
        outcome = self._try(lambda: self.candidate.with_points(pending))
        if outcome.status == "scored":
            self.draft = {}
        elif outcome.status == "draft":
            self.draft = pending
        return outcome

    def _edit_document(self, change: Callable[[dict[str, Any]], None]) -> EditOutcome:
        if self.draft:
            self.last = EditOutcome("refused", (self._draft_message(),))
            return self.last

        def build() -> Framework:
            doc = self.candidate.to_dict()
            change(doc)
            return Framework.from_document(doc, f"framework {self.candidate.id} (workbench edit)")

        return self._try(build)

    def _draft_message(self) -> str:
        return "; ".join(self.last.problems) or "points draft off budget"

    def set_goalpost(self, indicator: str, stage: str, which: str, value: float) -> EditOutcome:
        """Move the ``low`` or ``high`` goalpost of a linear indicator in one stage."""
        ind = self.candidate.indicator(indicator)
        if not isinstance(ind.rule, LinearRule):
            self.last = EditOutcome(
                "refused", (MSG_NOT_LINEAR.format(ind=indicator, kind=ind.rule.kind),)
            )
            return self.last
        if which not in ("low", "high"):
            raise ValueError(f"which must be 'low' or 'high', got {which!r}")
        pos = self.candidate.indicator_ids.index(ind.id)
        stages = self.candidate.stage_ids

        def change(doc: dict[str, Any]) -> None:
            rule = doc["indicators"][pos]["rule"]
            old = rule[which]
            per_stage = dict(old) if isinstance(old, Mapping) else dict.fromkeys(stages, old)
            per_stage[stage] = float(value)
            rule[which] = per_stage

        return self._edit_document(change)

    def set_list_fraction(self, tier: str, value: float) -> EditOutcome:
        """Set the top fraction of one list (lists must stay in increasing order)."""
        pos = [t.id for t in self.candidate.tiers].index(tier)

        def change(doc: dict[str, Any]) -> None:
            doc["tiers"][pos]["top_fraction"] = float(value)

        return self._edit_document(change)

    def set_subsidy(self, position: int, field_name: str, value: Any) -> EditOutcome:
        """Set ``top_fraction``, ``amount_wan`` or ``max_firms`` of the subsidy at ``position``."""
        if field_name not in ("top_fraction", "amount_wan", "max_firms"):
            raise ValueError(f"not an editable subsidy field: {field_name!r}")

        def change(doc: dict[str, Any]) -> None:
            item = doc["subsidies"][position]
            if field_name == "max_firms" and (value is None or _is_nan(value)):
                item.pop("max_firms", None)
            else:
                item[field_name] = _plain_number(value)

        return self._edit_document(change)

    def reset(self) -> EditOutcome:
        """Back to the framework loaded at start."""
        self.draft = {}
        return self.apply(self.baseline.framework)

    # -- suggested frameworks and their edit path -------------------------------------------------------
    def load_suggestion(self, framework: Framework) -> EditOutcome:
        """Load a suggested framework; its last step becomes the candidate."""
        self.suggestion = framework
        self.draft = {}
        return self.apply(framework)

    @property
    def edit_path(self) -> pd.DataFrame:
        """The loaded suggestion's ``calibration.edits`` (step 0 = the start), one row a step."""
        cal = self.suggestion.calibration if self.suggestion is not None else None
        edits = list((cal or {}).get("edits") or [])
        cols = ["step", "move", "indicator", "text_zh", "text_en", "train", "held_out"]
        cols += ["chosen_share", "firms_changing_list"]
        rows = [{c: e.get(c) for c in cols} for e in edits if isinstance(e, Mapping)]
        return pd.DataFrame(rows, columns=cols)

    def step_to(self, step: int) -> EditOutcome:
        """Compare the edit path's framework after ``step`` (0 = the start) with the start.

        A step may carry ``points`` (``{indicator: {stage: points}}``, the changes it makes);
        steps are applied in order from the framework loaded at start. Without points on a step,
        the whole suggestion is shown and the outcome says so.
        """
        if self.suggestion is None:
            self.last = EditOutcome("refused", (MSG_NO_STEP.format(step=step, last=0),))
            return self.last
        cal = self.suggestion.calibration or {}
        edits = [e for e in (cal.get("edits") or []) if isinstance(e, Mapping)]
        last = max((int(e.get("step", 0)) for e in edits), default=0)
        if not 0 <= step <= last:
            self.last = EditOutcome("refused", (MSG_NO_STEP.format(step=step, last=last),))
            return self.last
        steps = [e for e in edits if 0 < int(e.get("step", 0)) <= step]
        self.draft = {}
        if step == last:
            return self.apply(self.suggestion)
        if any(not isinstance(e.get("points"), Mapping) for e in steps):
            outcome = self.apply(self.suggestion)
            self.last = EditOutcome(
                "scored", (MSG_STEP_NO_POINTS.format(step=step),), outcome.seconds
            )
            return self.last
        points: dict[str, dict[str, float]] = {}
        for e in steps:
            for ind, per_stage in e["points"].items():
                points.setdefault(str(ind), {}).update(
                    {str(s): float(v) for s, v in per_stage.items()}
                )
        return self._try(lambda: self.baseline.framework.with_points(points))

    # -- reading ----------------------------------------------------------------------------------
    def points_table(self) -> pd.DataFrame:
        """The candidate's points table (:meth:`Framework.table`) with the draft's cells on it."""
        table = self.candidate.table()
        for ind, per_stage in self.draft.items():
            for s, v in per_stage.items():
                table.loc[ind, s] = v
        return table

    def budget_state(self) -> pd.DataFrame:
        """Per stage: core points of the candidate (with the draft), the budget and the gap.

        The framework's parser owns the rule (core points add up to ``core_budget`` in every
        stage); this is its state, shown while a draft is off budget.
        """
        fw = self.candidate
        points = fw.points()
        for ind, per_stage in self.draft.items():
            points[ind] = {**points[ind], **per_stage}
        core = fw.core_indicator_ids
        sums = [math.fsum(points[i][s] for i in core) for s in fw.stage_ids]
        out = pd.DataFrame(
            {"core_points": sums, "budget": fw.core_budget},
            index=pd.Index(fw.stage_ids, name="stage"),
        )
        out["gap"] = out["core_points"] - out["budget"]
        out["balanced"] = out["gap"].abs() < 1e-9
        return out

    def find_firm(self, enterprise_id: str) -> pd.Series:
        """Rows of ``data`` for this enterprise id (one per year)."""
        ids = self.baseline.data["enterprise_id"].astype("string")
        hit = ids == str(enterprise_id).strip()
        if not hit.any():
            raise KeyError(MSG_NO_SUCH_FIRM.format(eid=enterprise_id))
        return self.baseline.data.loc[hit.to_numpy(), "year"]

    def firm_points(self, enterprise_id: str, year: Any) -> pd.DataFrame:
        """One firm's points per line, old (start) vs new (candidate) — :mod:`calibrate.explain`."""
        from calibrate.explain import decompose

        old = decompose(self.baseline.scores, [enterprise_id], year=year).firm(enterprise_id, year)
        new = decompose(self.candidate_scores, [enterprise_id], year=year).firm(enterprise_id, year)
        out = pd.concat(
            [
                old[["name_zh", "name_en", "points"]].rename(columns={"points": "old"}),
                new[["points"]].rename(columns={"points": "new"}),
            ],
            axis=1,
            sort=False,
        )
        out["name_zh"] = out["name_zh"].fillna(new["name_zh"])
        out["name_en"] = out["name_en"].fillna(new["name_en"])
        out["change"] = out["new"].fillna(0.0) - out["old"].fillna(0.0)
        return out

    def firm_path(self, enterprise_id: str, year: Any) -> Any:
        """The firm's nearest path to the next list under the candidate (explain.nearest_path)."""
        from calibrate.explain import nearest_path

        return nearest_path(
            self.candidate, self.baseline.data, self.candidate_scores, enterprise_id, year
        )

    def changed_points(self) -> pd.DataFrame:
        """Points that differ between the start and the candidate (long form, from Framework.diff)."""
        diff = self.baseline.framework.diff(self.candidate)
        return diff[diff["change"].abs() > 0].reset_index(drop=True)

    def outcome_metrics(self) -> pd.DataFrame | None:
        """Outcome metrics of the start and the candidate on the same firm-years, or None.

        The firm-years: labelled in the evaluation years (:attr:`evaluation_years`) and ranked
        under both frameworks — the rows :attr:`Comparison.outcome_metrics` uses. Each column is
        :func:`calibrate.metrics.ranking_metrics` of that framework's totals in its own ranking
        groups (rows are its keys: ``n``, ``events``, ``base_rate``, ``auc_within_group``, ``auc_pooled``,
        ``prec_topK``, ``lift_topK``). The start's column is computed once per set of rows, the
        candidate's again only when its totals move (a list or subsidy edit moves none).
        """
        lab = self.labels()
        if lab is None:
            return None
        y = lab.to_numpy(dtype=np.float64, na_value=np.nan)
        sides = (self.baseline.scores, self.candidate_scores)
        use = ~np.isnan(y)
        for side in sides:
            use &= ~side.frame["vetoed"].to_numpy(dtype=bool)
        if not use.any():
            return None
        rows = _digest(use)
        columns = [self._side_metrics(side, y, use, rows) for side in sides]
        out = pd.DataFrame(columns, index=["base", "candidate"]).T
        out["change"] = out["candidate"] - out["base"]
        out.index.name = "metric"
        return out

    def _side_metrics(self, side: ScoreResult, y: Any, use: Any, rows: str) -> dict[str, float]:
        total = side.frame["total"].to_numpy(dtype=np.float64)
        key = (rows, _digest(total), _digest(side.group_code))
        if key not in self._metrics_cache:
            if len(self._metrics_cache) > 8:
                self._metrics_cache.clear()
            self._metrics_cache[key] = metrics.ranking_metrics(
                y[use].astype(np.int8), total[use], side.group_code[use], DEFAULT_TOP
            )
        return self._metrics_cache[key]

    def view(self, max_movers: int = MAX_MOVERS, *, outcomes: bool = True) -> View:
        """Everything the page shows after an edit, computed by compare (the edit's whole cost)."""
        c = self.comparison
        movers = c.movers
        return View(
            overall=c.overall,
            lists=c.lists,
            movers=movers.head(max_movers),
            n_movers=len(movers),
            subsidies=c.subsidies,
            outcomes=self.outcome_metrics() if outcomes else None,
            years=self.evaluation_years,
            budget=self.budget_state(),
        )

    # -- saving -----------------------------------------------------------------------------------
    def save_framework(self, folder: str | Path) -> Path:
        """Write the candidate as validated YAML, named by its fingerprint (same policy, same file)."""
        edited = self.candidate.with_points({}, version=f"{self.candidate.version}+workbench")
        fw = Framework.from_yaml(edited.to_yaml(), "workbench candidate")
        path = Path(folder) / f"{fw.id}-workbench-{fw.fingerprint}.yaml"
        return fw.save(path)

    def save_comparison(self, folder: str | Path) -> Path:
        """Write the comparison's tables to one .xlsx (frozen headers), named by both fingerprints."""
        full = self.full_comparison()
        base_fp, cand_fp = full.fingerprints
        path = Path(folder) / f"comparison-{base_fp}-{cand_fp}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_workbook({"points_changed": self.changed_points(), **full.tables()}, path)


def _digest(values: Any) -> str:
    return hashlib.blake2b(np.ascontiguousarray(values).tobytes(), digest_size=16).hexdigest()


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _plain_number(value: Any) -> Any:
    number = float(value)
    return int(number) if number.is_integer() else number
