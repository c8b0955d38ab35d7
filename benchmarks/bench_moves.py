"""Policy moves on the synthetic panel with the three failure modes (issue 10). Not a timed test.

On ``SynthConfig(failure_modes=True)`` (a wrong-signed indicator, a misplaced goalpost, a
predictive column no framework reads) it prints, for each shipped framework, the held-out
within-group AUC and top-10 % precision of: the official framework, the suggestion with points
only, with the default moves (points, direction, shape), with every move (new indicators from
the data's unread columns), a logistic regression on the framework's indicators (and on them plus
the unread column), and the oracle probability from the truth file — all on the suggestion's own
held-out rows (the last labelled year) — and the share of the official-to-oracle gap each closes.

Run: ``python benchmarks/bench_moves.py [--enterprises 5000] [--bootstrap 50]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from calibrate.constraints import DEFAULT_MOVES, MOVES, ConstraintSet
from calibrate.framework import load_framework
from calibrate.metrics import AUC_WITHIN_GROUP, ranking_metrics
from calibrate.models import features_from_indicators
from calibrate.scoring import score
from calibrate.suggest import suggest
from calibrate.synth import SynthConfig, generate

NEW_COLUMN = "new_product_share"


def _logistic(data: pd.DataFrame, fw_id: str, extra: bool) -> tuple[np.ndarray, object]:
    """Standardised indicator columns (and the unread one) with stage dummies, and the model."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scores = score(load_framework(fw_id), data)
    x = features_from_indicators(data, load_framework(fw_id)).fillna(0.0)
    if extra:
        x[NEW_COLUMN] = data[NEW_COLUMN].fillna(0.0).to_numpy()
    dummies = pd.get_dummies(pd.Series(scores.stage_index), prefix="stage", dtype=float)
    X = np.column_stack([x.to_numpy(np.float64), dummies.to_numpy()])
    return X, make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def evaluate(fw_id: str, enterprises: int, bootstrap: int, seed: int) -> pd.DataFrame:
    panel = generate(
        SynthConfig(
            enterprises=enterprises, parks=2, years=(2018, 2024), seed=seed, failure_modes=True
        ),
        progress=False,
    )
    data, events = panel.enterprises, panel.events
    fw = load_framework(fw_id)
    rows: dict[str, dict[str, float]] = {}
    runs: dict[str, object] = {}
    seconds: dict[str, float] = {}
    for name, moves in (
        ("suggest: points only", ("points",)),
        ("suggest: default moves", DEFAULT_MOVES),
        ("suggest: all moves", MOVES),
    ):
        t0 = time.perf_counter()
        s = suggest(
            fw, data, events, "hte_certified", constraints=ConstraintSet(moves=moves),
            n_bootstrap=bootstrap, progress=False, seed=seed,
        )  # fmt: skip
        seconds[name] = time.perf_counter() - t0
        runs[name] = s
        rows.setdefault("official", dict(s.metrics["current"]))
        rows[name] = dict(s.metrics["suggested"])
    s = runs["suggest: points only"]
    test, train, y = s.test_mask, s.train_mask, s.outcome  # type: ignore[attr-defined]
    group = score(fw, data).group_code[test]
    for name, extra in (("logistic", False), ("logistic + unread column", True)):
        X, model = _logistic(data, fw_id, extra)
        model.fit(X[train], y[train])  # type: ignore[attr-defined]
        rows[name] = ranking_metrics(y[test], model.predict_proba(X[test])[:, 1], group)  # type: ignore[attr-defined]
    oracle = panel.truth["oracle_hte_certified_h1"].to_numpy(np.float64)
    rows["oracle (truth)"] = ranking_metrics(y[test], oracle[test], group)
    table = pd.DataFrame(rows).T[["n", "events", AUC_WITHIN_GROUP, "prec_top10"]]
    auc = table[AUC_WITHIN_GROUP]
    gap = auc["oracle (truth)"] - auc["official"]
    table["gap closed"] = ((auc - auc["official"]) / gap).where(table.index != "official")
    table["seconds"] = pd.Series(seconds)
    for name, s in runs.items():
        path = s.path  # type: ignore[attr-defined]
        named = path[path["indicator"].notna()]
        edits = [f"{m} {i}" for m, i in zip(named["move"], named["indicator"], strict=True)]
        print(f"   {fw_id} {name}: {', '.join(edits) or 're-weighting only'}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--bootstrap", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    print(
        f"== failure-mode panel: {args.enterprises} firms a year, 2 parks, 2018-2024, seed "
        f"{args.seed}; hte_certified within 1 year; held-out = last labelled year =="
    )
    for fw_id in ("longwan-2022", "national-2024"):
        table = evaluate(fw_id, args.enterprises, args.bootstrap, args.seed)
        print(f"-- {fw_id}")
        print(table.round(4).to_string())


if __name__ == "__main__":
    main()
