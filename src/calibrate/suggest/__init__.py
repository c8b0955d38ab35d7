"""Suggest policy edits that make a framework's ranking predict an outcome, with evidence.

A suggestion is a path of edits a policy office can read, adopt or refuse — re-weighted points,
reversed directions, re-fitted goalposts and bands, indicators added or dropped — each kept only
when cross-validation inside the training years says it helps by more than its noise, each with
training and held-out metrics, how often bootstrap samples choose it, and the firms it moves
between lists. See ``docs/suggest.md`` for the method and its limits.

>>> from calibrate.suggest import suggest  # doctest: +SKIP
>>> s = suggest(f, data, events, "hte_certified")  # doctest: +SKIP
>>> s.path[["step", "move", "text_en", "held_out_auc_within_group"]]  # doctest: +SKIP
>>> s.at_step(2).save("adopt-first-two.yaml")  # doctest: +SKIP
"""

from calibrate.suggest._engine import OBJECTIVES, Objective, suggest
from calibrate.suggest._evidence import (
    FRACTIONS,
    INTERVAL,
    MIN_EVENTS_PER_POINT,
    MSG_FEW_EVENTS,
    evaluate_policy,
    evaluate_ranking,
)
from calibrate.suggest._record import apply_edits
from calibrate.suggest._result import Suggestion

__all__ = [
    "FRACTIONS",
    "INTERVAL",
    "MIN_EVENTS_PER_POINT",
    "MSG_FEW_EVENTS",
    "OBJECTIVES",
    "Objective",
    "Suggestion",
    "apply_edits",
    "evaluate_policy",
    "evaluate_ranking",
    "suggest",
]
