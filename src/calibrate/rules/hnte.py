"""National high-tech enterprise certification (高新技术企业认定, 2016 rules).

Rules from 《高新技术企业认定管理办法》 (国科发火〔2016〕32号) and the work guidance
《高新技术企业认定管理工作指引》 (国科发火〔2016〕195号), as summarised in DOMAIN.md.

Hard conditions, in the fixed order of ``failed`` (``cond__<id>``)
------------------------------------------------------------------
``registered``
    ``year − founded_year ≥ 1``. Gap in years.
``core_ip``
    ``invention_patents_owned + class2_ip_owned ≥ 1``.
``supported_field``
    ``in_supported_field`` true.
``st_staff_share``
    S&T staff ≥ 10 % of employees: ``st_staff / employees`` where both are known (and
    employees > 0), else ``st_staff_share``.
``rd_ratio``
    ``rd_expense_3y / revenue_3y`` ≥ 5 % if last-year sales (``revenue``) ≤ 5,000 万,
    ≥ 4 % if 5,000 万 < sales ≤ 20,000 万, ≥ 3 % if sales > 20,000 万. The edges follow the
    official wording "5,000万元（含）以下 … 5,000万元至2亿元（含）… 2亿元以上": exactly 5,000 is
    in the 5 % band and exactly 20,000 in the 4 % band. Revenue over 3 years ≤ 0 fails.
``rd_domestic_share``
    ≥ 60 %.
``hitech_revenue_share``
    ``hitech_product_revenue / revenue`` ≥ 60 %; revenue ≤ 0 fails.
``no_safety_accident``, ``no_env_violation``
    ``major_safety_accident`` / ``env_violation`` equal 0.
``score``
    innovation-capability score ≥ 71.

All ``≥`` comparisons carry a tolerance of 1e-9 (``calibrate.rules._bands.TOL``), so
``st_staff = 1, employees = 10`` meets 10 %.

Score (100) and the expert mapping
----------------------------------
``expert_quality`` q ∈ [0, 1] is the caller's latent quality per firm. Every expert-judged
point is a deterministic function of q, rounding half up with the 1e-9 tolerance:
``r(x) = floor(x + 0.5 + 1e-9)``; within a band ``lo–hi`` the points are ``lo + r(q·(hi − lo))``.

- ``item__ip_advancement`` = r(8q); ``item__ip_core_support`` = r(8q) (0–8 each);
- ``item__ip_count`` (0–8): ≥ 1 class-I → 7–8; else class-II ≥ 5 → 5–6, 3–4 → 3–4, 1–2 → 1–2,
  none → 0 (point within the band by q);
- ``item__ip_acquisition`` (0–6): any IP and not ``ip_transfer_only`` → 1 + r(5q); transfer
  only → 1 + r(2q); no IP → 0;
- ``item__ip_standards``: 2 if ``standards_drafted > 0``;
- ``group__ip`` = min(30, sum of the five ``ip_*`` items) — the cap binds only at 31–32;
- ``item__conversion`` = ``group__conversion`` (0–30): average conversions per year
  ``conversions_3y / 3`` ≥ 5 → 25–30, ≥ 4 → 19–24, ≥ 3 → 13–18, ≥ 2 → 7–12, ≥ 1 → 1–6,
  below 1 → 0 (compared as ``conversions_3y ≥ 3k`` so no division);
- ``item__rd_org`` = ``group__rd_org`` = r(20q) (the official 6 + 6 + 4 + 4 sub-items collapse
  onto one latent quality);
- ``item__net_asset_growth`` and ``item__sales_growth`` (0–10 each, ``group__growth`` their sum):
  g = ½(x₂/x₁ + x₃/x₂) − 1, banded g ≥ 35 % → 9–10, ≥ 25 % → 7–8, ≥ 15 % → 5–6, ≥ 5 % → 3–4,
  > 0 → 1–2, ≤ 0 → 0, with x₃ = current (``net_assets`` / ``revenue``), x₂ = ``*_lag1``,
  x₁ = ``*_lag2``. Zero-value cases from the work guidance: x₁ = 0 → g = x₃/x₂ − 1;
  x₂ = 0 → 0 points; negative g → 0 points. Decisions beyond the text: a non-positive x₁ or x₂
  (negative net assets) is treated like 0; a **missing lag is treated as 0** — the firm did not
  operate that year (a young firm): missing x₁ uses the later two years, missing x₂ scores 0 —
  and does not flag the score as missing.

``score`` = ``group__ip + group__conversion + group__rd_org + group__growth``.

Missing values
--------------
A ``NaN`` an input of a hard condition needs makes the condition fail with the id suffix
``:missing`` (``st_staff_share:missing``). A missing score input (other than a growth lag)
earns the lowest points of its item; the score can then still pass (true points can only be
higher), and when it fails the id is ``score:missing``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.rules._bands import (
    FloatArray,
    at_least,
    band_index,
    expert_points,
    ratio,
)
from calibrate.rules._common import (
    Cond,
    Need,
    assemble,
    check_columns,
    col,
    input_columns,
    quality_array,
    staff_share,
)
from calibrate.rules._result import RuleResult

__all__ = [
    "CONDITIONS",
    "INPUT_COLUMNS",
    "ITEMS",
    "PASS_SCORE",
    "VALIDITY_YEARS",
    "evaluate",
    "is_valid",
    "valid_years",
]

RULE = "hnte"
TITLE = "高新技术企业认定 2016"

#: Hard-condition ids in the fixed order of ``failed``.
CONDITIONS = (
    "registered",
    "core_ip",
    "supported_field",
    "st_staff_share",
    "rd_ratio",
    "rd_domestic_share",
    "hitech_revenue_share",
    "no_safety_accident",
    "no_env_violation",
    "score",
)
#: Score item ids (``item__<id>`` columns).
ITEMS = (
    "ip_advancement",
    "ip_core_support",
    "ip_count",
    "ip_acquisition",
    "ip_standards",
    "conversion",
    "rd_org",
    "net_asset_growth",
    "sales_growth",
)
#: Minimum innovation-capability score.
PASS_SCORE = 71.0
#: A certificate is valid in the certification year and the two following.
VALIDITY_YEARS = 3

ST_STAFF_MIN = 0.10
RD_DOMESTIC_MIN = 0.60
HITECH_MIN = 0.60
IP_CAP = 30.0
# R&D ratio by last-year sales band: ≤ 5000 → 5 %, (5000, 20000] → 4 %, > 20000 → 3 %
SALES_EDGES = (5000.0, 20000.0)
RD_MIN_BY_BAND = np.array([0.05, 0.04, 0.03])

# growth: g > 0 → 1–2, ≥ 5 % → 3–4, ≥ 15 % → 5–6, ≥ 25 % → 7–8, ≥ 35 % → 9–10
GROWTH_EDGES = (0.0, 0.05, 0.15, 0.25, 0.35)
GROWTH_STRICT = (True, False, False, False, False)
GROWTH_LO = np.array([0.0, 1, 3, 5, 7, 9])
GROWTH_HI = np.array([0.0, 2, 4, 6, 8, 10])

# conversions per year ≥ 1 → 1–6, ≥ 2 → 7–12, ≥ 3 → 13–18, ≥ 4 → 19–24, ≥ 5 → 25–30
CONV_EDGES = (3.0, 6.0, 9.0, 12.0, 15.0)  # on the 3-year total: 3 × the yearly average
CONV_LO = np.array([0.0, 1, 7, 13, 19, 25])
CONV_HI = np.array([0.0, 6, 12, 18, 24, 30])

# IP count when no class-I IP: class-II 1–2 → 1–2, 3–4 → 3–4, ≥ 5 → 5–6
CLASS2_EDGES = (1.0, 3.0, 5.0)
CLASS2_LO = np.array([0.0, 1, 3, 5])
CLASS2_HI = np.array([0.0, 2, 4, 6])

_NEEDS_TEMPLATE = (
    Need("condition registered", ("{year}", "founded_year")),
    Need("condition core_ip", ("invention_patents_owned", "class2_ip_owned")),
    Need("condition supported_field", ("in_supported_field",)),
    Need("condition st_staff_share", ("st_staff", "employees"), ("st_staff_share",)),
    Need("condition rd_ratio", ("rd_expense_3y", "revenue_3y", "revenue")),
    Need("condition rd_domestic_share", ("rd_domestic_share",)),
    Need("condition hitech_revenue_share", ("hitech_product_revenue", "revenue")),
    Need("condition no_safety_accident", ("major_safety_accident",)),
    Need("condition no_env_violation", ("env_violation",)),
    Need(
        "the IP items",
        ("invention_patents_owned", "class2_ip_owned", "ip_transfer_only", "standards_drafted"),
    ),
    Need("item conversion", ("conversions_3y",)),
    Need("item net_asset_growth", ("net_assets", "net_assets_lag1", "net_assets_lag2")),
    Need("item sales_growth", ("revenue", "revenue_lag1", "revenue_lag2")),
)


def _needs(year_col: str) -> list[Need]:
    return [
        Need(n.purpose, tuple(c.format(year=year_col) for c in n.columns), n.alternative)
        for n in _NEEDS_TEMPLATE
    ]


#: Every column :func:`evaluate` reads (with the default ``year_col``).
INPUT_COLUMNS = input_columns(_needs("year"))


def evaluate(
    df: pd.DataFrame, expert_quality: npt.ArrayLike, *, year_col: str = "year"
) -> RuleResult:
    """Evaluate the high-tech enterprise certification rule for every row.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per firm-year with the columns listed in the module docstring
        (docs/columns.md, "Certification-rule inputs").
    expert_quality : float, array-like or pandas.Series
        Latent quality in [0, 1] driving the expert-judged points: a scalar, one value per row,
        or a Series aligned on ``df``'s index. ``NaN`` or values outside [0, 1] raise
        ``ValueError``.
    year_col : str, default "year"
        Column with the data year.

    Returns
    -------
    RuleResult
        ``rule == "hnte"``; frame columns ``passed``, ``score``, ``failed``,
        ``cond__<id>`` for :data:`CONDITIONS`, ``group__ip``, ``group__conversion``,
        ``group__rd_org``, ``group__growth`` and ``item__<id>`` for :data:`ITEMS`.

    Raises
    ------
    calibrate.exceptions.DataContractError
        When columns are missing; lists every one.
    """
    check_columns(df, RULE, TITLE, _needs(year_col))
    q = quality_array(expert_quality, df.index)

    # --- hard conditions -------------------------------------------------------------------
    year, founded = col(df, year_col), col(df, "founded_year")
    age = year - founded
    registered = Cond("registered", at_least(age, 1.0), np.isnan(age), 1.0 - age, 1.0)

    inv, cls2 = col(df, "invention_patents_owned"), col(df, "class2_ip_owned")
    n_ip = inv + cls2
    core_ip = Cond("core_ip", at_least(n_ip, 1.0), np.isnan(n_ip), 1.0 - n_ip, 1.0)

    field = col(df, "in_supported_field")
    supported = Cond("supported_field", (field != 0) & ~np.isnan(field), np.isnan(field))

    share, share_missing = staff_share(df)
    st = Cond(
        "st_staff_share",
        at_least(share, ST_STAFF_MIN),
        share_missing,
        ST_STAFF_MIN - share,
        ST_STAFF_MIN,
    )

    rd3, rev3, rev = col(df, "rd_expense_3y"), col(df, "revenue_3y"), col(df, "revenue")
    rd_ratio = ratio(rd3, rev3)
    rd_min = RD_MIN_BY_BAND[band_index(rev, SALES_EDGES, strict=(True, True))]
    rd_missing = np.isnan(rd3) | np.isnan(rev3) | np.isnan(rev)
    rd = Cond(
        "rd_ratio", at_least(rd_ratio, rd_min) & ~rd_missing, rd_missing, rd_min - rd_ratio, rd_min
    )

    dom = col(df, "rd_domestic_share")
    domestic = Cond(
        "rd_domestic_share",
        at_least(dom, RD_DOMESTIC_MIN),
        np.isnan(dom),
        RD_DOMESTIC_MIN - dom,
        RD_DOMESTIC_MIN,
    )

    hitech = col(df, "hitech_product_revenue")
    hshare = ratio(hitech, rev)
    hi = Cond(
        "hitech_revenue_share",
        at_least(hshare, HITECH_MIN),
        np.isnan(hitech) | np.isnan(rev),
        HITECH_MIN - hshare,
        HITECH_MIN,
    )

    accident, env = col(df, "major_safety_accident"), col(df, "env_violation")
    no_accident = Cond("no_safety_accident", accident == 0, np.isnan(accident))
    no_env = Cond("no_env_violation", env == 0, np.isnan(env))

    # --- score -----------------------------------------------------------------------------
    transfer = col(df, "ip_transfer_only")
    standards = col(df, "standards_drafted")
    conv = col(df, "conversions_3y")
    inv0, cls20 = np.nan_to_num(inv), np.nan_to_num(cls2)

    advancement = expert_points(q, 0, 8)
    core_support = expert_points(q, 0, 8)
    c2band = band_index(cls20, CLASS2_EDGES)
    has_class1 = at_least(inv0, 1.0)
    ip_count = np.where(
        has_class1, expert_points(q, 7, 8), expert_points(q, CLASS2_LO[c2band], CLASS2_HI[c2band])
    )
    any_ip = at_least(inv0 + cls20, 1.0)
    own_rd = transfer == 0  # a missing flag counts as transfer only: the lower range
    acquisition = np.where(
        any_ip, np.where(own_rd, expert_points(q, 1, 6), expert_points(q, 1, 3)), 0.0
    )
    std_pts = np.where(standards > 0, 2.0, 0.0)
    ip_group = np.minimum(IP_CAP, advancement + core_support + ip_count + acquisition + std_pts)

    cband = band_index(conv, CONV_EDGES)
    conversion = expert_points(q, CONV_LO[cband], CONV_HI[cband])

    rd_org = expert_points(q, 0, 20)

    na_pts, na_missing = _growth_points(df, "net_assets", q)
    sales_pts, sales_missing = _growth_points(df, "revenue", q)

    score = ip_group + conversion + rd_org + na_pts + sales_pts
    score_missing = (
        np.isnan(inv)
        | np.isnan(cls2)
        | (np.isnan(transfer) & any_ip)
        | np.isnan(standards)
        | np.isnan(conv)
        | na_missing
        | sales_missing
    )
    score_cond = Cond(
        "score", at_least(score, PASS_SCORE), score_missing, PASS_SCORE - score, PASS_SCORE
    )

    conds = [registered, core_ip, supported, st, rd, domestic, hi, no_accident, no_env, score_cond]
    items = dict(
        zip(
            ITEMS,
            (
                advancement,
                core_support,
                ip_count,
                acquisition,
                std_pts,
                conversion,
                rd_org,
                na_pts,
                sales_pts,
            ),
            strict=True,
        )
    )
    groups = {
        "ip": ip_group,
        "conversion": conversion,
        "rd_org": rd_org,
        "growth": na_pts + sales_pts,
    }
    return assemble(RULE, df.index, conds, score, items, groups)


def _growth_points(
    df: pd.DataFrame, base: str, q: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Points 0–10 for the 3-year growth of ``base`` and a mask of rows with x₃ missing."""
    x3 = col(df, base)
    x2 = np.nan_to_num(col(df, f"{base}_lag1"), nan=0.0)
    x1 = np.nan_to_num(col(df, f"{base}_lag2"), nan=0.0)
    r21 = ratio(x2, x1)
    r32 = ratio(x3, x2)
    # x₂ ≤ 0 → r32 is NaN → g NaN → 0 points; x₁ ≤ 0 → later two years only
    g = np.where(x1 > 0, 0.5 * (r21 + r32) - 1.0, r32 - 1.0)
    band = band_index(g, GROWTH_EDGES, GROWTH_STRICT)
    pts = expert_points(q, GROWTH_LO[band], GROWTH_HI[band])
    return pts, np.isnan(x3)


def valid_years(cert_year: int) -> tuple[int, int, int]:
    """Years in which a certificate granted in ``cert_year`` is valid.

    Parameters
    ----------
    cert_year : int
        Year of certification.

    Returns
    -------
    tuple of int
        ``(cert_year, cert_year + 1, cert_year + 2)``; renewal is due in the last one.
    """
    y = int(cert_year)
    return (y, y + 1, y + 2)


def is_valid(cert_year: npt.ArrayLike, year: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Vectorised: does a certificate from ``cert_year`` cover ``year``?

    Parameters
    ----------
    cert_year, year : array-like
        Broadcast against each other; a missing ``cert_year`` (never certified) gives ``False``.

    Returns
    -------
    numpy.ndarray of bool
    """
    c = np.asarray(cert_year, dtype=np.float64)
    y = np.asarray(year, dtype=np.float64)
    return np.asarray((y >= c) & (y <= c + VALIDITY_YEARS - 1), dtype=bool)
