"""What the three synthetic failure modes cost a shipped framework (issue 10). Prints a table.

Usage::

    python benchmarks/bench_synth_failure_modes.py             # the panel of the brief
    python benchmarks/bench_synth_failure_modes.py --contrast  # also the panel without the modes

On ``SynthConfig(enterprises=5000, parks=2, years=(2018, 2024), seed=1, failure_modes=True)``
and for ``longwan-2022`` and ``national-2024`` it prints the within-group AUC and the top-10 %
precision (``calibrate.metrics.ranking_metrics``, ranking groups of the official framework) on
the **held-out year** — the last year with labels — of:

- ``official``: the shipped framework's totals (nothing is fitted);
- ``fix (a)`` / ``fix (b)`` / ``fix (c)`` / ``fix (a+b+c)``: the framework with one or all
  failure modes repaired **by hand from the known generating model** (not fitted, so they show
  what each mode costs, not what a search finds): (a) ``graduates_hired`` reversed (full points at
  0 graduates, none at the official cap), (b) the ``postgrad_share`` goalposts moved from
  0 → 20 % to 30 → 50 %, (c) ``new_product_share`` added to the tech group with 8 points
  (linear 0 → 50 %), the core points rescaled to the budget;
- ``logistic``: a logistic regression fitted on the earlier labelled years on the framework's
  indicator columns (percentile ranks within stage × year, missing = 0, plus stage dummies), and
  ``logistic + new column`` with the rank of ``new_product_share`` added;
- ``oracle``: the exact probability of the event from the truth file (as the pipeline's oracle row).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calibrate.framework import CountRule, Framework, load_framework
from calibrate.metrics import ranking_metrics
from calibrate.models import features_from_indicators
from calibrate.outcomes import make_labels
from calibrate.scoring import score
from calibrate.synth import Panel, SynthConfig, generate

FRAMEWORKS = ("longwan-2022", "national-2024")
TARGETS = ("hte_certified", "tech_sme_registered")
NEW_COLUMN = "new_product_share"
NEW_POINTS = 8.0


# --- frameworks with a failure mode repaired by hand ----------------------------------------


def _edit_rule(framework: Framework, ident: str, rule: dict[str, Any]) -> Framework:
    doc = framework.to_dict()
    for ind in doc["indicators"]:
        if ind["id"] == ident:
            ind["rule"] = rule
    return Framework.from_document(doc, f"{framework.id} with {ident} repaired")


def fix_sign(framework: Framework) -> Framework:
    """(a) ``graduates_hired`` scored "fewer is better": full points at 0, none at the old cap."""
    ind = framework.indicator("graduates_hired")
    if not isinstance(ind.rule, CountRule):
        raise TypeError(f"{framework.id}: graduates_hired is not a count rule any more")
    per_unit = ind.rule.per_unit
    cap = {
        s: ind.points[s] / (per_unit[s] if isinstance(per_unit, Mapping) else per_unit)
        for s in framework.stage_ids
    }
    return _edit_rule(framework, "graduates_hired", {"kind": "linear", "low": cap, "high": 0})


def fix_goalpost(framework: Framework) -> Framework:
    """(b) ``postgrad_share`` goalposts moved to where the outcome moves: 30 → 50 %."""
    return _edit_rule(framework, "postgrad_share", {"kind": "linear", "low": 0.3, "high": 0.5})


def fix_indicator(framework: Framework) -> Framework:
    """(c) ``new_product_share`` added to the tech group; core points rescaled to the budget."""
    doc = framework.to_dict()
    template = framework.to_dict()["indicators"][0]
    doc["indicators"].append(
        {
            **template,
            "id": NEW_COLUMN,
            "name": {"zh": "新产品销售收入占比", "en": "New-product sales share"},
            "unit": "fraction",
            "group": "tech",
            "rule": {"kind": "linear", "low": 0, "high": 0.5},
            "points": dict.fromkeys(framework.stage_ids, NEW_POINTS),
        }
    )
    budget = float(doc["core_budget"])
    doc["core_budget"] = budget + NEW_POINTS
    wider = Framework.from_document(doc, f"{framework.id} with {NEW_COLUMN}")
    core = set(wider.core_indicator_ids)
    factor = budget / (budget + NEW_POINTS)
    points = {i: {s: p * factor for s, p in pts.items()} for i, pts in wider.points().items()}
    return wider.with_points({i: points[i] for i in core}, core_budget=budget)


def variants(framework: Framework) -> dict[str, Framework]:
    return {
        "official": framework,
        "fix (a) sign": fix_sign(framework),
        "fix (b) goalpost": fix_goalpost(framework),
        "fix (c) new indicator": fix_indicator(framework),
        "fix (a+b+c)": fix_indicator(fix_goalpost(fix_sign(framework))),
    }


# --- evaluation -----------------------------------------------------------------------------


def _features(data: pd.DataFrame, framework: Framework, stage: np.ndarray, extra: bool) -> Any:
    x = features_from_indicators(data, framework).fillna(0.0)
    if extra:
        keys = [stage, data["year"].to_numpy()]
        x[NEW_COLUMN] = data.groupby(keys)[NEW_COLUMN].rank(pct=True).fillna(0.0).to_numpy()
    dummies = pd.get_dummies(pd.Series(stage, index=data.index), prefix="stage", dtype=float)
    return pd.concat([x, dummies], axis=1).to_numpy(np.float64)


def evaluate(panel: Panel, framework_id: str, target: str) -> pd.DataFrame:
    """One row per method: held-out n, events, within-group AUC and top-10 % precision."""
    from sklearn.linear_model import LogisticRegression

    data = panel.enterprises
    labels = make_labels(data, panel.events, target, 1)
    labelled = labels.labelled_mask
    y = labels.frame["label"].to_numpy(np.float64, na_value=0.0)
    years = data["year"].to_numpy()
    held_out = int(years[labelled].max())
    test, train = labelled & (years == held_out), labelled & (years < held_out)
    official = score(load_framework(framework_id), data)
    group = official.group_code[test]
    rows = {}
    for name, fw in variants(load_framework(framework_id)).items():
        total = score(fw, data).frame["total"].to_numpy(np.float64)
        rows[name] = ranking_metrics(y[test], total[test], group)
    for name, extra in (("logistic", False), ("logistic + new column", True)):
        if extra and NEW_COLUMN not in data.columns:
            continue
        x = _features(data, official.framework, official.stage_index, extra)
        model = LogisticRegression(max_iter=5000).fit(x[train], y[train])
        rows[name] = ranking_metrics(y[test], model.predict_proba(x[test])[:, 1], group)
    oracle = panel.truth[f"oracle_{target}_h1"].to_numpy(np.float64)
    rows["oracle (truth)"] = ranking_metrics(y[test], oracle[test], group)
    table = pd.DataFrame(rows).T[["n", "events", "auc_within_group", "prec_top10"]]
    table.insert(0, "held-out year", held_out)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contrast", action="store_true", help="also the panel without the modes")
    args = parser.parse_args(argv)
    pd.set_option("display.width", 140)
    for modes in (True, False) if args.contrast else (True,):
        config = SynthConfig(
            enterprises=args.enterprises,
            parks=2,
            years=(2018, 2024),
            seed=args.seed,
            failure_modes=modes,
        )
        t0 = time.perf_counter()
        panel = generate(config, progress=False)
        print(f"\n=== {config} ({time.perf_counter() - t0:.1f} s to generate)")
        for target in TARGETS:
            for fid in FRAMEWORKS:
                table = evaluate(panel, fid, target)
                official = table.loc["official", "auc_within_group"]
                table["auc - official"] = table["auc_within_group"] - official
                print(f"\n{target} (horizon 1), {fid}")
                print(table.round(4).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
