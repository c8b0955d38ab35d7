"""The :class:`Panel` result object and its deterministic file output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ENTERPRISE_COLUMNS", "EVENTS", "FAILURE_MODE_COLUMNS", "TRUTH_COLUMNS", "Panel"]

KEYS = ("enterprise_id", "year", "park", "industry", "carrier")
NATIONAL = (
    "rd_expense",
    "rd_growth",
    "rd_intensity",
    "st_staff_share",
    "invention_patent_apps",
    "pct_apps",
    "tech_contract_turnover",
    "hitech_product_revenue",
    "revenue",
    "revenue_growth",
    "postgrad_share",
    "rd_deduction_relief",
    "roe",
    "graduates_hired",
    "platforms_provincial",
    "awards_provincial",
    "vc_financing",
    "standards_drafted",
)
LOCAL = (
    "invention_patents_owned",
    "utility_patent_apps",
    "software_copyrights",
    "industry_university_projects",
    "tax_paid",
    "tax_growth",
    "employees",
    "net_profit",
    "labour_productivity",
    "hte_valid",
    "tech_sme_registered",
    "specialised_sme",
    "talent_programs",
    "listed_reserve",
)
PENALTIES = ("major_safety_accident", "env_violation", "dishonest_debtor", "research_misconduct")
RULE_INPUTS = (
    "founded_year",
    "st_staff",
    "total_assets",
    "net_assets",
    "net_assets_lag1",
    "net_assets_lag2",
    "revenue_lag1",
    "revenue_lag2",
    "rd_expense_3y",
    "revenue_3y",
    "rd_domestic_share",
    "total_cost",
    "class2_ip_owned",
    "ip_transfer_only",
    "conversions_3y",
    "in_supported_field",
    "national_st_award",
    "led_standard",
    "debt_ratio",
    "main_business_share",
    "strategic_emerging",
)
#: Columns of the enterprise-year table, in file order (docs/columns.md).
ENTERPRISE_COLUMNS: tuple[str, ...] = KEYS + NATIONAL + LOCAL + PENALTIES + RULE_INPUTS

#: Columns appended after :data:`ENTERPRISE_COLUMNS` by ``SynthConfig(failure_modes=True)``
#: (docs/columns.md, "Synthetic failure-mode columns").
FAILURE_MODE_COLUMNS: tuple[str, ...] = ("new_product_share",)

#: Integer-valued columns; those that may be missing are float64 in memory and Parquet and are
#: written as integers in CSV.
COUNT_COLUMNS = frozenset(
    {
        "year",
        "invention_patent_apps",
        "pct_apps",
        "graduates_hired",
        "platforms_provincial",
        "awards_provincial",
        "standards_drafted",
        "invention_patents_owned",
        "utility_patent_apps",
        "software_copyrights",
        "industry_university_projects",
        "employees",
        "hte_valid",
        "tech_sme_registered",
        "specialised_sme",
        "talent_programs",
        "listed_reserve",
        *PENALTIES,
        "founded_year",
        "st_staff",
        "class2_ip_owned",
        "ip_transfer_only",
        "conversions_3y",
        "in_supported_field",
        "national_st_award",
        "led_standard",
        "strategic_emerging",
    }
)

#: Event names of the events table.
EVENTS = ("hte_certified", "tech_sme_registered", "loan_granted", "loan_default")

#: Columns of the truth table, in file order.
TRUTH_COLUMNS = (
    "enterprise_id",
    "year",
    "latent_capability",
    "latent_health",
    "expert_quality_mean",
    "exit_prob",
    "hte_eligible",
    "hte_readiness",
    "hte_apply_prob",
    "hte_pass_prob",
    "tech_sme_pass",
    "tech_sme_apply_prob",
    "loan_active_next",
    "loan_eligible",
    "loan_grant_prob",
    "default_hazard",
    "oracle_hte_certified_h1",
    "oracle_hte_certified_h2",
    "oracle_hte_certified_h3",
    "oracle_tech_sme_registered_h1",
    "oracle_tech_sme_registered_h2",
    "oracle_tech_sme_registered_h3",
    "oracle_loan_default_h1",
    "oracle_loan_default_h2",
    "oracle_loan_default_h3",
)

#: printf formats of float cells in CSV. Data values are already rounded (money to 0.01 万元,
#: fractions to 1e-4), so 12 significant digits write them exactly and shortest; truth floats
#: keep 4 significant digits in CSV (full precision in Parquet).
ENTERPRISE_CSV_FLOAT = "%.12g"
TRUTH_CSV_FLOAT = "%.4g"

FORMATS = ("parquet", "csv")


@dataclass(frozen=True, eq=False)
class Panel:
    """A synthetic multi-park panel with its ground truth.

    Parameters
    ----------
    enterprises : pandas.DataFrame
        Enterprise-year table, one row per ``(enterprise_id, year)``, columns
        :data:`ENTERPRISE_COLUMNS` (docs/columns.md), sorted by year then id.
    events : pandas.DataFrame
        Long table ``enterprise_id, year, event`` with the events of :data:`EVENTS`, sorted by
        year, id, event. Includes certificates granted before the first published year (so
        that ``hte_valid`` can be recomputed from the events) and events dated after a firm's
        last row (a loan default in the year after its exit).
    truth : pandas.DataFrame
        Same rows and order as ``enterprises``: latent states, decision probabilities and the
        oracle probabilities ``oracle_<event>_h1/h2/h3`` (:data:`TRUTH_COLUMNS`).
    coefficients : dict
        Config, every generating coefficient and the realised park / year draws.
    """

    enterprises: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    coefficients: dict[str, Any] = field(repr=False)

    def write(self, out_dir: str | Path, *, fmt: str = "parquet") -> dict[str, Path]:
        """Write the four files; the same panel always gives the same bytes.

        Parameters
        ----------
        out_dir : str or pathlib.Path
            Directory, created if needed; existing files of the same names are replaced.
        fmt : {"parquet", "csv"}, default "parquet"
            Table format. CSV is UTF-8 with ``\\n`` line ends, no index, empty cells for
            missing values, integers without decimals, data values exact and truth floats
            with 4 significant digits.

        Returns
        -------
        dict of str to pathlib.Path
            ``enterprises``, ``events``, ``truth`` and ``coefficients`` (always YAML).
        """
        import yaml

        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / f"{name}.{fmt}" for name in ("enterprises", "events", "truth")}
        if fmt == "parquet":
            for name, df in (
                ("enterprises", self.enterprises),
                ("events", self.events),
                ("truth", self.truth),
            ):
                df.to_parquet(paths[name], index=False, engine="pyarrow", compression="zstd")
        else:
            _to_csv(_csv_counts(self.enterprises), paths["enterprises"], ENTERPRISE_CSV_FLOAT)
            _to_csv(self.events, paths["events"], None)
            _to_csv(self.truth, paths["truth"], TRUTH_CSV_FLOAT)
        paths["coefficients"] = out / "coefficients.yaml"
        text = yaml.safe_dump(self.coefficients, sort_keys=False, allow_unicode=True, width=100)
        paths["coefficients"].write_text(text, encoding="utf-8", newline="\n")
        return paths

    def summary(self) -> dict[str, float]:
        """Headline figures of the panel (stage shares, base rates) for READMEs and tests.

        Returns
        -------
        dict of str to float
            ``rows``, ``firms``, ``stage_share__<stage>`` (Longwan stages), ``hte_valid_share``,
            ``loan_firm_share`` (firms with a loan granted in a published year),
            ``default_per_loan``, ``hte_candidate_rate_h1`` (new certificates among candidates
            with ``hte_valid == 0``, years before the last).
        """
        e = self.enterprises
        stage = longwan_stage(e["revenue"].to_numpy())
        out: dict[str, float] = {
            "rows": float(len(e)),
            "firms": float(e["enterprise_id"].nunique()),
        }
        for name in STAGES:
            out[f"stage_share__{name}"] = float(np.mean(stage == name))
        out["hte_valid_share"] = float(e["hte_valid"].mean())
        first, last = int(e["year"].min()), int(e["year"].max())
        ev = self.events
        in_panel = ev[(ev["year"] >= first) & (ev["year"] <= last)]
        loans = in_panel[in_panel["event"] == "loan_granted"]
        out["loan_firm_share"] = float(
            loans["enterprise_id"].nunique() / e["enterprise_id"].nunique()
        )
        defaults = in_panel[in_panel["event"] == "loan_default"]
        out["default_per_loan"] = float(len(defaults) / max(len(loans), 1))
        cert = ev.loc[ev["event"] == "hte_certified", ["enterprise_id", "year"]].assign(hit=True)
        cand = e.loc[(e["hte_valid"] == 0) & (e["year"] < last), ["enterprise_id", "year"]]
        nxt = cand.assign(year=cand["year"] + 1).merge(
            cert, on=["enterprise_id", "year"], how="left"
        )
        out["hte_candidate_rate_h1"] = (
            float(nxt["hit"].notna().mean()) if len(nxt) else float("nan")
        )
        return out


#: Longwan stages by revenue (万元, lower bound inclusive).
STAGES = ("seed", "start-up", "growth", "expansion", "mature")
STAGE_EDGES = (100.0, 500.0, 2000.0, 10000.0)


def longwan_stage(revenue: np.ndarray) -> np.ndarray:
    """Longwan stage of each revenue (万元, lower bound inclusive).

    Parameters
    ----------
    revenue : array-like of float
        Operating revenue in 万元.

    Returns
    -------
    numpy.ndarray of str
        ``"seed"`` (0–100), ``"start-up"`` (100–500), ``"growth"`` (500–2,000),
        ``"expansion"`` (2,000–10,000) or ``"mature"`` (≥ 10,000).
    """
    idx = np.searchsorted(
        np.asarray(STAGE_EDGES), np.asarray(revenue, dtype=np.float64), side="right"
    )
    return np.asarray(STAGES)[idx]


def _csv_counts(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if c in COUNT_COLUMNS and out[c].dtype.kind == "f":
            out[c] = out[c].astype("Int64")
    return out


def _to_csv(df: pd.DataFrame, path: Path, float_format: str | None) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format=float_format)
