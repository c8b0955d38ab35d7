"""The result of evaluating one certification rule on a table of firms."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["RuleResult"]


@dataclass(frozen=True)
class RuleResult:
    """Outcome of one certification rule for every firm of the input table.

    Parameters
    ----------
    rule : str
        ``"hnte"``, ``"tech_sme"`` or ``"innovative_sme"``.
    frame : pandas.DataFrame
        Same index (and order) as the input. Columns:

        - ``passed`` (bool): the firm meets the rule;
        - ``score`` (float): the points score (a sum of whole points, so exact);
        - ``failed`` (str): ``;``-joined ids of the failed conditions in the rule's fixed order,
          ``""`` when passed; an id carries the suffix ``:missing`` when an input the condition
          needs is missing (``NaN``) in that row;
        - ``cond__<id>`` (bool): one per hard condition, ``True`` when met;
        - ``group__<id>`` (float): group subtotals where the rule has groups;
        - ``item__<id>`` (float): one per score item;
        - rule-specific extras (``route`` and ``route__<id>`` for the tech-SME rule).
    gaps : pandas.DataFrame
        Same index: ``gap__<id>`` per numeric condition — the signed change of the condition's
        measured quantity that would meet it (``+0.03`` on a share, ``+6`` points, ``-20``
        employees against a size cap); ``NaN`` when the condition is met, does not count, or
        its input is missing. Also ``n_failed`` (int) and ``distance`` (float, see
        :meth:`shortfalls`).
    """

    rule: str
    frame: pd.DataFrame
    gaps: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)

    @property
    def passed(self) -> pd.Series:
        """Boolean series, ``True`` for firms that meet the rule."""
        return self.frame["passed"]

    def pass_rate(self) -> float:
        """Share of firms that meet the rule (``nan`` for an empty table)."""
        n = len(self.frame)
        return float(self.frame["passed"].sum()) / n if n else float("nan")

    def shortfalls(self) -> pd.DataFrame:
        """Cultivation-pool view: the firms that fail, closest to passing first.

        Returns
        -------
        pandas.DataFrame
            One row per failing firm (input index), columns ``failed``, ``n_failed``,
            ``distance``, ``score`` and the ``gap__<id>`` columns (see ``gaps``). Sorted by
            ``n_failed`` ascending, then ``distance`` ascending, then input order.
            ``distance`` adds, over the failed conditions, the gap relative to the threshold
            (``|gap| / threshold``, e.g. 0.03 / 0.10 = 0.3 for the S&T staff share, 6 / 71 for
            the HNTE score) and 1.0 for each condition without a numeric gap (a yes/no
            condition, or one whose input is missing).
        """
        fails = ~self.frame["passed"].to_numpy(dtype=bool)
        gap_cols = [c for c in self.gaps.columns if c.startswith("gap__")]
        out = self.frame.iloc[fails][["failed"]].copy()
        # positional copies: the input index may repeat (several years of one firm)
        for col in ["n_failed", "distance"]:
            out[col] = self.gaps[col].to_numpy()[fails]
        out["score"] = self.frame["score"].to_numpy()[fails]
        for col in gap_cols:
            out[col] = self.gaps[col].to_numpy()[fails]
        return out.sort_values(["n_failed", "distance"], kind="stable")
