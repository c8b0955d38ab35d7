"""The record of a suggestion: the edit path with its evidence (training, held-out and
park-held-out metrics, firms changing list), the calibration block written into the framework
file, and :func:`apply_edits`, which rebuilds the framework of any prefix of the path."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate import metrics
from calibrate.constraints import ConstraintSet
from calibrate.data import fingerprint
from calibrate.exceptions import ConstraintError, Problem
from calibrate.framework import Framework
from calibrate.scoring import ScoreResult, score
from calibrate.suggest import _evidence as ev
from calibrate.suggest._design import Design
from calibrate.suggest._directions import Direction, to_records
from calibrate.suggest._final import materialize, rounded
from calibrate.suggest._moves import DropIndicator, edit_indicator
from calibrate.suggest._path import Step

FloatArray = npt.NDArray[np.float64]
MSG_WRONG_SIGN = (
    "indicator {ident}: the outcome points the other way (sign probability {p:.2f}, conditional "
    "coefficient {c:+.3f}); its points are pinned at the lower bound by the fit{action}"
)
MSG_ONE_PARK = (
    "--holdout park needs at least two parks in the held-out rows; found {found}; "
    "use --holdout year"
)


def by_park(
    design: Design,
    steps: list[Step],
    data: pd.DataFrame,
    scores: ScoreResult,
    y: FloatArray,
    test_mask: npt.NDArray[np.bool_],
    holdout: str,
) -> pd.DataFrame | None:
    """Each step with points fitted without a park, measured on that park's held-out rows.

    Within-group AUC compares firms of one ranking group only, so the held-out totals of every
    park (each from points fitted without it) pool into one figure per step. The edits
    themselves were chosen on all parks' training rows.
    """
    parks = data["park"].astype("string").to_numpy() if "park" in data.columns else None
    found = 0 if parks is None else len(set(parks[test_mask]))
    if found < 2:
        if holdout == "park":
            raise ConstraintError(
                "holdout", [Problem("--holdout", MSG_ONE_PARK.format(found=found))]
            )
        return None
    assert parks is not None
    train_parks = parks[design.rows]
    rows = []
    for s in steps:
        box = design.box(s.structure)
        F = design.slice(design.matrix(s.structure), box)
        _, _, warm = design.fit(F, box, np.ones(design.rows.size))
        total = np.full(len(data), np.nan)
        for park in sorted(set(parks[test_mask])):
            weight = (train_parks != park).astype(np.float64)
            if s.kind == "start":
                fw = s.structure.framework
            else:
                points, _, _ = design.fit(F, box, weight, warm)
                fw = materialize(s.structure, rounded(box, points))
            here = test_mask & (parks == park)
            total[here] = score(fw, data.loc[here]).frame["total"].to_numpy(dtype=np.float64)
        values = ev.evaluate_ranking(y[test_mask], total[test_mask], scores.group_code[test_mask])
        rows.append(
            {
                "step": s.step,
                "park_held_out_auc_within_group": values[metrics.AUC_WITHIN_GROUP],
                "park_held_out_prec_top10": values["prec_top10"],
            }
        )
    return pd.DataFrame(rows).set_index("step")


def path_table(
    steps: list[Step],
    frameworks: list[Framework],
    step_scores: list[ScoreResult],
    y: FloatArray,
    train_mask: npt.NDArray[np.bool_],
    test_mask: npt.NDArray[np.bool_],
    years: npt.NDArray[np.int64],
) -> pd.DataFrame:
    latest = int(years.max())
    in_year = years == latest
    rows = []
    prev_tier: Any = None
    for s, _fw, res in zip(steps, frameworks, step_scores, strict=True):
        tier = res.frame["tier"].astype("string").fillna("").to_numpy()[in_year]
        moved = 0 if prev_tier is None else int(np.count_nonzero(tier != prev_tier))
        prev_tier = tier
        row: dict[str, Any] = {
            "step": s.step,
            "move": s.kind,
            "indicator": edit_indicator(s.edit) if s.edit is not None else None,
            "text_zh": _text(s, frameworks, "zh"),
            "text_en": _text(s, frameworks, "en"),
            "cv_gain": s.cv_gain,
            "cv_se": s.cv_se,
            "chosen_share": s.chosen_share,
            "firms_changing_list": moved,
            "list_year": latest,
        }
        for scope, mask in (("train", train_mask), ("held_out", test_mask)):
            values = ev.evaluate_policy(y[mask], res, mask)
            for key in (metrics.AUC_WITHIN_GROUP, "prec_top10"):
                row[f"{scope}_{key}"] = values[key]
        rows.append(row)
    return pd.DataFrame(rows)


def _text(step: Step, frameworks: list[Framework], lang: str) -> str:
    if step.kind == "start":
        return "现行办法" if lang == "zh" else "today's framework"
    if step.kind == "points":
        return (
            "在约束内重新分配各指标分值"
            if lang == "zh"
            else "re-weight the points within the constraints"
        )
    assert step.edit is not None
    before = frameworks[max(step.step - 1, 0)]
    source = (
        before
        if not hasattr(step.edit, "indicator") or isinstance(step.edit, DropIndicator)
        else frameworks[step.step]
    )
    try:
        return step.edit.text(source, lang)
    except KeyError:
        return step.edit.text(frameworks[step.step], lang)


def direction_actions(steps: list[Step], constraints: ConstraintSet) -> dict[str, str]:
    out: dict[str, str] = {}
    for s in steps:
        if s.edit is None:
            continue
        ident = edit_indicator(s.edit)
        if s.kind == "direction":
            out[ident] = "reversed"
        elif s.kind == "drop":
            out[ident] = "dropped"
    return out


def sign_warnings(directions: list[Direction], actions: dict[str, str]) -> tuple[str, ...]:
    out = []
    for d in directions:
        if d.verdict == "reversed" and d.indicator not in actions:
            out.append(
                MSG_WRONG_SIGN.format(
                    ident=d.indicator,
                    p=d.sign_probability,
                    c=d.conditional,
                    action="; no edit passed cross-validation (or the moves do not allow one): review it",
                )  # fmt: skip
            )
    return tuple(out)


@dataclass(frozen=True)
class Findings:
    """Everything a suggestion found, for its calibration block."""

    solver: str
    labels: Any
    train: tuple[int, ...]
    test: tuple[int, ...]
    warnings: tuple[str, ...]
    points: pd.DataFrame
    metrics_rows: pd.DataFrame
    path: pd.DataFrame
    steps: list[Step]
    frameworks: list[Framework]
    directions: list[Direction]
    actions: dict[str, str]


def calibration_block(
    framework: Framework, tgt: Any, data: pd.DataFrame, events: pd.DataFrame, req: Any, f: Findings
) -> dict[str, Any]:
    """The ``calibration`` block written into the suggested framework file."""
    data_fp = fingerprint(data.drop(columns=["source_row"], errors="ignore"))
    events_fp = fingerprint(events.drop(columns=["source_row"], errors="ignore"))
    return {
        "objective": req.objective,
        "solver": f.solver,
        "target": tgt.target,
        "direction": tgt.direction,
        "outcome_scored": tgt.outcome_scored,
        "horizon": req.horizon,
        "base_framework": framework.id,
        "base_fingerprint": framework.fingerprint,
        "data_fingerprint": data_fp,
        "events_fingerprint": events_fp,
        "train_years": list(f.train),
        "test_years": list(f.test),
        "held_out_years": list(f.test),
        "seed": req.seed,
        "n_bootstrap": req.n_bootstrap,
        "interval": f"bootstrap over firms, {int(ev.INTERVAL[0] * 100)}th–{int(ev.INTERVAL[1] * 100)}th percentile",
        "constraints": req.constraints.to_dict(),
        "labels": f.labels.to_dict()["counts"],
        "warnings": list(f.warnings),
        "points": [
            {
                "indicator": r.indicator,
                "stage": r.stage,
                "current": ev.num(r.current),
                "suggested": ev.num(r.suggested),
                "low": ev.num(r.low),
                "high": ev.num(r.high),
                "pinned": r.pinned if isinstance(r.pinned, str) else None,
                "confident": bool(r.confident),
            }
            for r in f.points.itertuples()
        ],
        "held_out": {
            m: {"current": ev.num(row["current"]), "suggested": ev.num(row["suggested"])}
            for m, row in f.metrics_rows.iterrows()
        },
        "directions": to_records(f.directions, f.actions),
        "edits": edit_records(f.path, f.steps, f.frameworks),
        "bootstrap_draws_file": None,
        "python": platform.python_version(),
    }


def edit_records(
    path: pd.DataFrame, steps: list[Step], frameworks: list[Framework]
) -> list[dict[str, Any]]:
    out = []
    for row, s in zip(path.to_dict("records"), steps, strict=True):
        fw = frameworks[s.step]
        prev = frameworks[max(s.step - 1, 0)]
        ident = row["indicator"]
        rec: dict[str, Any] = {
            "step": int(row["step"]),
            "move": row["move"],
            "indicator": ident,
            "text_zh": row["text_zh"],
            "text_en": row["text_en"],
            "train": {
                str(k).removeprefix("train_"): ev.num(v)
                for k, v in row.items()
                if str(k).startswith("train_")
            },
            "held_out": {
                str(k).removeprefix("held_out_"): ev.num(v)
                for k, v in row.items()
                if str(k).startswith("held_out_")
            },
            "held_out_without_park": {
                str(k).removeprefix("park_held_out_"): ev.num(v)
                for k, v in row.items()
                if str(k).startswith("park_held_out_")
            }
            or None,
            "cv_gain": ev.num(row["cv_gain"]),
            "cv_se": ev.num(row["cv_se"]),
            "chosen_share": None if row["chosen_share"] is None else ev.num(row["chosen_share"]),
            "firms_changing_list": int(row["firms_changing_list"]),
            "points": {
                i.id: {st: ev.num(v) for st, v in i.points.items()}
                for i in fw.indicators
                if i.id in fw.core_indicator_ids
            },
        }
        if ident is not None:
            rec["before"] = indicator_doc(prev, ident)
            rec["after"] = indicator_doc(fw, ident)
        out.append(rec)
    return out


def indicator_doc(fw: Framework, ident: str) -> dict[str, Any] | None:
    if ident not in fw.indicator_ids:
        return None
    doc = fw.to_dict()
    for pos, ind in enumerate(doc["indicators"]):
        if ind["id"] == ident:
            return {"position": pos, "indicator": ind}
    return None


def with_points_doc(item: dict[str, Any], new: dict[str, float] | None) -> dict[str, Any]:
    """An indicator's document with other points: a count's cap and a points-valued band table
    keep their meaning (the document form of ``Framework.with_points``' rescaling)."""
    if new is None:
        return item
    old = {s: float(v) for s, v in item["points"].items()}
    rule = dict(item["rule"])

    def scaled(value: Any, s: str) -> float:
        v = float(value[s] if isinstance(value, dict) else value)
        return v * new[s] / old[s] if old.get(s, 0) > 0 and new[s] > 0 else v

    if rule["kind"] == "count":
        per = {s: scaled(rule["per_unit"], s) for s in new}
        rule["per_unit"] = next(iter(per.values())) if len(set(per.values())) == 1 else per
    elif rule["kind"] == "bands" and rule.get("value_is") == "points":
        tables = (
            rule["bands"] if isinstance(rule["bands"], dict) else {s: rule["bands"] for s in new}
        )
        rule["bands"] = {
            s: [
                {
                    "min": b["min"],
                    "value": b["value"] * new[s] / old[s]
                    if old.get(s, 0) > 0 and new[s] > 0
                    else b["value"],
                }
                for b in tables[s]
            ]
            for s in new
        }
    return {**item, "rule": rule, "points": dict(new)}


def apply_edits(suggested: Framework, upto: int) -> Framework:
    """The framework adopting the first ``upto`` edits of a suggestion's path.

    Parameters
    ----------
    suggested : Framework
        A suggested framework (its ``calibration.edits`` hold every step's rule changes and
        points).
    upto : int
        0 = today's framework, ``len(edits) - 1`` = the suggestion itself.
    """
    cal = dict(suggested.calibration or {})
    edits = list(cal.get("edits") or [])
    if not edits:
        raise ConstraintError(
            suggested.id,
            [
                Problem(
                    "calibration.edits",
                    "this framework carries no edit path; use a file written by calibrate suggest",
                )
            ],
        )
    last = len(edits) - 1
    if isinstance(upto, bool) or not isinstance(upto, int) or not 0 <= upto <= last:
        raise ConstraintError(
            suggested.id, [Problem("--upto", f"choose a step from 0 to {last}, found {upto!r}")]
        )
    doc = suggested.to_dict()
    inds = list(doc["indicators"])
    for rec in reversed(edits[upto + 1 :]):
        ident = rec.get("indicator")
        if ident is None:
            continue
        inds = [i for i in inds if i["id"] != ident]
        before = rec.get("before")
        if before is not None:
            inds.insert(min(int(before["position"]), len(inds)), dict(before["indicator"]))
    table = edits[upto]["points"]
    doc["indicators"] = [with_points_doc(ind, table.get(ind["id"])) for ind in inds]
    doc["calibration"] = {**cal, "applied_upto": upto}
    if upto == 0:
        doc["id"], doc["version"] = (
            cal.get("base_framework", doc["id"]),
            str(doc["version"]).removesuffix("-suggested"),
        )
        doc.pop("calibration")
    return Framework.from_document(doc, f"{suggested.id} (edits up to {upto})")
