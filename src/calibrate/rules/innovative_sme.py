"""Innovative SME evaluation (创新型中小企业评价标准, 2022).

Rules from 《优质中小企业梯度培育管理暂行办法》 (工信部企业〔2022〕63号), annex 1, as summarised
in DOMAIN.md. Only the score route is implemented: the standard's direct routes (provincial+
S&T award, valid HNTE and similar honours, provincial+ R&D institution, ≥ 500万 new equity in
3 years) are not in DOMAIN.md and are left out.

Conditions, in the fixed order of ``failed`` (``cond__<id>``)
-------------------------------------------------------------
``score``
    score ≥ 60.
``innovation``, ``growth``, ``specialisation``
    group subtotals ≥ 20, ≥ 15, ≥ 15.

Score (100) and edge inclusivity
--------------------------------
DOMAIN.md writes the top band with ">" and the bottom band with "<", which leaves the middle
bands closed at both outer ends; inner edges are taken **lower-inclusive** (a value exactly on
an inner edge gets the higher band). Concretely:

Innovation (``group__innovation``, 40)

- ``item__ip`` (20), **reconstructed** in part. The official table is: ≥ 1 high-value class-I
  IP → 20; ≥ 1 own-R&D class-I → 15; ≥ 1 class-I → 10; ≥ 1 class-II → 5; none → 0. "High
  value" is not in the data, so it is *reconstructed* as ``invention_patents_owned ≥ 1`` with
  ``strategic_emerging == 2`` (invention patents in strategic emerging industries are one of
  CNIPA's high-value categories). Own R&D is ``ip_transfer_only == 0``;
- ``item__rd_intensity`` (20): R&D / revenue (``rd_intensity`` where known, else
  ``rd_expense / revenue``) > 5 % → 20, 3 %–5 % (both inclusive) → 15, [2 %, 3 %) → 10,
  [1 %, 2 %) → 5, < 1 % → 0.

Growth (``group__growth``, 30)

- ``item__revenue_growth`` (20): ``revenue_growth`` > 15 % → 20, [10 %, 15 %] → 15,
  [5 %, 10 %) → 10, [0, 5 %) → 5, < 0 → 0;
- ``item__debt_ratio`` (10): ``debt_ratio`` < 55 % → 10, [55 %, 75 %] → 5, > 75 % → 0.

Specialisation (``group__specialisation``, 30)

- ``item__strategic_emerging`` (10): ``strategic_emerging`` 2 (core) → 10, 1 (related) → 5,
  0 → 0 (the official table gives 5 to every firm outside strategic emerging industries; this
  follows the project's 0/1/2 coding instead);
- ``item__main_business_share`` (20): ``main_business_share`` > 70 % → 20, [60 %, 70 %] → 15,
  [55 %, 60 %) → 10, [50 %, 55 %) → 5, < 50 % → 0.

Comparisons carry the 1e-9 tolerance of ``calibrate.rules._bands`` in the direction of the text
(``> 5 %`` is tested as ``> 0.05 + 1e-9``).

Missing values
--------------
A missing input earns the lowest points of its item (a missing ``ip_transfer_only`` counts as
transfer only, a missing ``strategic_emerging`` as 0). A condition that then fails, and whose
group has a missing input, carries the suffix ``:missing`` (``growth:missing``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.rules._bands import at_least, band_points
from calibrate.rules._common import Cond, Need, assemble, check_columns, col, rd_sales_ratio
from calibrate.rules._result import RuleResult

__all__ = ["CONDITIONS", "GROUP_FLOORS", "ITEMS", "PASS_SCORE", "evaluate"]

RULE = "innovative_sme"
TITLE = "创新型中小企业评价 2022"

#: Condition ids in the fixed order of ``failed``.
CONDITIONS = ("score", "innovation", "growth", "specialisation")
#: Score item ids (``item__<id>`` columns).
ITEMS = (
    "ip",
    "rd_intensity",
    "revenue_growth",
    "debt_ratio",
    "strategic_emerging",
    "main_business_share",
)
#: Minimum total score.
PASS_SCORE = 60.0
#: Minimum subtotal per group.
GROUP_FLOORS = {"innovation": 20.0, "growth": 15.0, "specialisation": 15.0}

RD_EDGES = (0.01, 0.02, 0.03, 0.05)
RD_STRICT = (False, False, False, True)
RD_POINTS = (0, 5, 10, 15, 20)
GROWTH_EDGES = (0.0, 0.05, 0.10, 0.15)
GROWTH_STRICT = (False, False, False, True)
GROWTH_POINTS = (0, 5, 10, 15, 20)
DEBT_EDGES = (0.55, 0.75)
DEBT_STRICT = (False, True)
DEBT_POINTS = (10, 5, 0)
MAIN_EDGES = (0.50, 0.55, 0.60, 0.70)
MAIN_STRICT = (False, False, False, True)
MAIN_POINTS = (0, 5, 10, 15, 20)
STRATEGIC_EDGES = (1.0, 2.0)
STRATEGIC_POINTS = (0, 5, 10)

NEEDS = (
    Need(
        "item ip",
        ("invention_patents_owned", "class2_ip_owned", "ip_transfer_only", "strategic_emerging"),
    ),
    Need("item rd_intensity", ("rd_intensity",), ("rd_expense", "revenue")),
    Need("item revenue_growth", ("revenue_growth",)),
    Need("item debt_ratio", ("debt_ratio",)),
    Need("item strategic_emerging", ("strategic_emerging",)),
    Need("item main_business_share", ("main_business_share",)),
)


def evaluate(df: pd.DataFrame) -> RuleResult:
    """Evaluate the innovative-SME rule for every row.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per firm-year with the columns listed in the module docstring.

    Returns
    -------
    RuleResult
        ``rule == "innovative_sme"``; frame columns ``passed``, ``score``, ``failed``,
        ``cond__<id>`` for :data:`CONDITIONS`, ``group__innovation``, ``group__growth``,
        ``group__specialisation`` and ``item__<id>`` for :data:`ITEMS`.

    Raises
    ------
    calibrate.exceptions.DataContractError
        When columns are missing; lists every one.
    """
    check_columns(df, RULE, TITLE, NEEDS)

    inv, cls2 = col(df, "invention_patents_owned"), col(df, "class2_ip_owned")
    transfer, strategic = col(df, "ip_transfer_only"), col(df, "strategic_emerging")
    class1 = at_least(inv, 1.0)
    ip_pts = np.select(
        [class1 & (strategic == 2), class1 & (transfer == 0), class1, at_least(cls2, 1.0)],
        [20.0, 15.0, 10.0, 5.0],
        0.0,
    )
    rd_ratio, rd_missing = rd_sales_ratio(df)
    rd_pts = band_points(rd_ratio, RD_EDGES, RD_POINTS, RD_STRICT)
    innovation = ip_pts + rd_pts
    innovation_missing = (
        np.isnan(inv)
        | np.isnan(cls2)
        | (class1 & (np.isnan(transfer) | np.isnan(strategic)))
        | rd_missing
    )

    growth_rate, debt = col(df, "revenue_growth"), col(df, "debt_ratio")
    growth_pts = band_points(growth_rate, GROWTH_EDGES, GROWTH_POINTS, GROWTH_STRICT)
    debt_pts = band_points(debt, DEBT_EDGES, DEBT_POINTS, DEBT_STRICT)
    growth = growth_pts + debt_pts
    growth_missing = np.isnan(growth_rate) | np.isnan(debt)

    main = col(df, "main_business_share")
    strategic_pts = band_points(strategic, STRATEGIC_EDGES, STRATEGIC_POINTS)
    main_pts = band_points(main, MAIN_EDGES, MAIN_POINTS, MAIN_STRICT)
    specialisation = strategic_pts + main_pts
    specialisation_missing = np.isnan(strategic) | np.isnan(main)

    score = innovation + growth + specialisation
    groups = {"innovation": innovation, "growth": growth, "specialisation": specialisation}
    missing = {
        "innovation": innovation_missing,
        "growth": growth_missing,
        "specialisation": specialisation_missing,
    }
    conds = [
        Cond(
            "score",
            at_least(score, PASS_SCORE),
            innovation_missing | growth_missing | specialisation_missing,
            PASS_SCORE - score,
            PASS_SCORE,
        )
    ]
    for gid, floor in GROUP_FLOORS.items():
        conds.append(
            Cond(gid, at_least(groups[gid], floor), missing[gid], floor - groups[gid], floor)
        )
    items = dict(
        zip(ITEMS, (ip_pts, rd_pts, growth_pts, debt_pts, strategic_pts, main_pts), strict=True)
    )
    return assemble(RULE, df.index, conds, score, items, groups)
