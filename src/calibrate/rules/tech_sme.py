"""Tech-based SME evaluation (科技型中小企业评价, 2017 rules).

Rules from 《科技型中小企业评价办法》 (国科发政〔2017〕115号) as summarised in DOMAIN.md.

Hard conditions, in the fixed order of ``failed`` (``cond__<id>``)
------------------------------------------------------------------
``size_employees``, ``size_revenue``, ``size_assets``
    ``employees ≤ 500``, ``revenue ≤ 20000`` and ``total_assets ≤ 20000`` (万元; a value exactly
    on the cap passes). Gap: cap − value (negative: how much to shed).
``no_dishonest_debtor``, ``no_research_misconduct``
    ``dishonest_debtor`` / ``research_misconduct`` equal 0.
``st_staff_item``
    the S&T-staff item scores more than 0, i.e. the share is ≥ 10 %. Score route only.
``score``
    score ≥ 60. Score route only.

Routes
------
A firm that meets the size caps and has no disqualifying record qualifies by the **score
route** (``st_staff_item`` and ``score`` met) or directly by any of ``hte_valid`` (valid
high-tech certificate), ``national_st_award``, ``platforms_provincial > 0`` (provincial+ R&D
institution), ``led_standard`` (led a national or industry standard). ``route__<id>`` (bool)
says which routes are open for each row (``route__score`` included); ``route`` (str) names the
one that qualified — the first direct route in that order, else ``"score"`` — and is ``""``
for a firm that does not pass. When a direct route is open, ``st_staff_item`` and ``score``
do not count and are not listed in ``failed``. A missing direct-route flag counts as not held.

Score (100), every table with the lower edge inclusive (the text says "（含）")
-------------------------------------------------------------------------------
- ``item__st_staff`` (20): S&T staff share (``st_staff / employees`` where both are known and
  employees > 0, else ``st_staff_share``) ≥ 30 % → 20, ≥ 25 % → 16, ≥ 20 % → 12, ≥ 15 % → 8,
  ≥ 10 % → 4, below → 0;
- ``item__rd`` (50): the better of R&D / sales (``rd_intensity`` where known, else
  ``rd_expense / revenue``) ≥ 6 % → 50, ≥ 5 % → 40, ≥ 4 % → 30, ≥ 3 % → 20, ≥ 2 % → 10, below
  → 0, and R&D / total cost (``rd_expense / total_cost``) ≥ 30 % → 50, ≥ 25 % → 40, ≥ 20 % →
  30, ≥ 15 % → 20, ≥ 10 % → 10, below → 0;
- ``item__ip`` (30): ≥ 1 class-I (``invention_patents_owned``) → 30, else class-II
  (``class2_ip_owned``) ≥ 4 → 24, 3 → 18, 2 → 12, 1 → 6, none → 0.

Every ``≥`` / ``≤`` comparison carries a tolerance of 1e-9, so ``st_staff = 3, employees = 10``
is exactly 30 %.

Missing values
--------------
A ``NaN`` in an input of a hard condition fails it with the suffix ``:missing``. A missing score
input earns the lowest points of its item; when the score then fails, the id is
``score:missing``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.rules._bands import at_least, at_most, band_points, ratio
from calibrate.rules._common import (
    Cond,
    Need,
    assemble,
    check_columns,
    col,
    input_columns,
    rd_sales_ratio,
    staff_share,
)
from calibrate.rules._result import RuleResult

__all__ = ["CONDITIONS", "DIRECT_ROUTES", "INPUT_COLUMNS", "ITEMS", "PASS_SCORE", "evaluate"]

RULE = "tech_sme"
TITLE = "科技型中小企业评价 2017"

#: Condition ids in the fixed order of ``failed``.
CONDITIONS = (
    "size_employees",
    "size_revenue",
    "size_assets",
    "no_dishonest_debtor",
    "no_research_misconduct",
    "st_staff_item",
    "score",
)
#: Score item ids (``item__<id>`` columns).
ITEMS = ("st_staff", "rd", "ip")
#: Direct-qualification routes in order of precedence for ``route``.
DIRECT_ROUTES = ("hte_valid", "national_st_award", "platforms_provincial", "led_standard")
#: Minimum score on the score route.
PASS_SCORE = 60.0

MAX_EMPLOYEES = 500.0
MAX_REVENUE = 20000.0
MAX_ASSETS = 20000.0
ST_STAFF_ITEM_MIN = 0.10

ST_EDGES = (0.10, 0.15, 0.20, 0.25, 0.30)
ST_POINTS = (0, 4, 8, 12, 16, 20)
RD_SALES_EDGES = (0.02, 0.03, 0.04, 0.05, 0.06)
RD_COST_EDGES = (0.10, 0.15, 0.20, 0.25, 0.30)
RD_POINTS = (0, 10, 20, 30, 40, 50)
CLASS2_EDGES = (1.0, 2.0, 3.0, 4.0)
CLASS2_POINTS = (0, 6, 12, 18, 24)
CLASS1_POINTS = 30.0

NEEDS = (
    Need("condition size_employees", ("employees",)),
    Need("condition size_revenue", ("revenue",)),
    Need("condition size_assets", ("total_assets",)),
    Need("condition no_dishonest_debtor", ("dishonest_debtor",)),
    Need("condition no_research_misconduct", ("research_misconduct",)),
    Need("item st_staff", ("st_staff", "employees"), ("st_staff_share",)),
    Need("item rd", ("rd_expense", "total_cost")),
    Need("item ip", ("invention_patents_owned", "class2_ip_owned")),
    Need("the direct routes", DIRECT_ROUTES),
)
#: Every column :func:`evaluate` reads; ``rd_intensity`` is used when present.
INPUT_COLUMNS = input_columns(NEEDS, optional=("rd_intensity",))


def evaluate(df: pd.DataFrame) -> RuleResult:
    """Evaluate the tech-based SME rule for every row.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per firm-year with the columns listed in the module docstring; ``rd_intensity``
        and ``st_staff_share`` are optional.

    Returns
    -------
    RuleResult
        ``rule == "tech_sme"``; frame columns ``passed``, ``score``, ``failed``, ``route``,
        ``cond__<id>`` for :data:`CONDITIONS`, ``route__<id>`` for :data:`DIRECT_ROUTES` and
        ``route__score``, ``item__st_staff``, ``item__rd``, ``item__ip``.

    Raises
    ------
    calibrate.exceptions.DataContractError
        When columns are missing; lists every one.
    """
    check_columns(df, RULE, TITLE, NEEDS)

    emp, rev, assets = col(df, "employees"), col(df, "revenue"), col(df, "total_assets")
    size_emp = Cond(
        "size_employees",
        at_most(emp, MAX_EMPLOYEES),
        np.isnan(emp),
        MAX_EMPLOYEES - emp,
        MAX_EMPLOYEES,
    )
    size_rev = Cond(
        "size_revenue", at_most(rev, MAX_REVENUE), np.isnan(rev), MAX_REVENUE - rev, MAX_REVENUE
    )
    size_assets = Cond(
        "size_assets",
        at_most(assets, MAX_ASSETS),
        np.isnan(assets),
        MAX_ASSETS - assets,
        MAX_ASSETS,
    )
    debtor, misconduct = col(df, "dishonest_debtor"), col(df, "research_misconduct")
    no_debtor = Cond("no_dishonest_debtor", debtor == 0, np.isnan(debtor))
    no_misconduct = Cond("no_research_misconduct", misconduct == 0, np.isnan(misconduct))

    share, share_missing = staff_share(df)
    st_pts = band_points(share, ST_EDGES, ST_POINTS)

    sales_ratio, sales_missing = rd_sales_ratio(df)
    rd, cost = col(df, "rd_expense"), col(df, "total_cost")
    cost_ratio = ratio(rd, cost)
    rd_pts = np.maximum(
        band_points(sales_ratio, RD_SALES_EDGES, RD_POINTS),
        band_points(cost_ratio, RD_COST_EDGES, RD_POINTS),
    )

    inv, cls2 = col(df, "invention_patents_owned"), col(df, "class2_ip_owned")
    ip_pts = np.where(
        at_least(inv, 1.0),
        CLASS1_POINTS,
        band_points(np.nan_to_num(cls2), CLASS2_EDGES, CLASS2_POINTS),
    )

    score = st_pts + rd_pts + ip_pts
    score_missing = (
        share_missing
        | sales_missing
        | np.isnan(rd)
        | np.isnan(cost)
        | np.isnan(inv)
        | np.isnan(cls2)
    )

    direct = {
        "hte_valid": _flag(col(df, "hte_valid")),
        "national_st_award": _flag(col(df, "national_st_award")),
        "platforms_provincial": np.asarray(col(df, "platforms_provincial") > 0, dtype=bool),
        "led_standard": _flag(col(df, "led_standard")),
    }
    any_direct = np.logical_or.reduce(list(direct.values()))
    by_score = ~any_direct
    st_item = Cond(
        "st_staff_item",
        st_pts > 0,
        share_missing,
        ST_STAFF_ITEM_MIN - share,
        ST_STAFF_ITEM_MIN,
        counts=by_score,
    )
    score_cond = Cond(
        "score",
        at_least(score, PASS_SCORE),
        score_missing,
        PASS_SCORE - score,
        PASS_SCORE,
        counts=by_score,
    )
    conds = [size_emp, size_rev, size_assets, no_debtor, no_misconduct, st_item, score_cond]
    score_route = st_item.ok & score_cond.ok

    # route label: first open direct route in precedence order, else "score"; "" if not passed
    eligible = size_emp.ok & size_rev.ok & size_assets.ok & no_debtor.ok & no_misconduct.ok
    names = np.array([*DIRECT_ROUTES, "score", ""], dtype=object)
    open_routes = np.vstack([*direct.values(), score_route, np.ones(len(df), dtype=bool)])
    label = names[np.argmax(open_routes, axis=0)]
    route = np.where(eligible, label, "")

    extra = {
        "route": route,
        **{f"route__{k}": v for k, v in direct.items()},
        "route__score": score_route,
    }
    items = {"st_staff": st_pts, "rd": rd_pts, "ip": ip_pts}
    return assemble(RULE, df.index, conds, score, items, extra=extra)


def _flag(x: np.ndarray) -> np.ndarray:
    """A 0/1 flag as bool; missing counts as not set."""
    return np.asarray((x != 0) & ~np.isnan(x), dtype=bool)
