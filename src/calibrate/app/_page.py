"""The workbench page (Panel): tables to edit, the comparison, the edit path, a firm, saving.

UI only: every number comes from :class:`calibrate.app.Workbench`. Panel is imported here (the
module that owns it), so ``import calibrate`` stays light.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from calibrate.app._session import EditOutcome, Workbench
from calibrate.app._text import column_title, t
from calibrate.exceptions import CalibrateError
from calibrate.framework import Framework, LinearRule

#: Called after a save with the framework and the written files; returns an MLflow run id or None.
SaveHook = Callable[[Framework, list[Path]], "str | None"]

#: Codes compare writes into table cells → the text keys that name them.
_VALUE_KEYS = {
    "none_list": "none",
    "vetoed": "vetoed",
    "entered": "entered",
    "left_list": "left",
    "total_row": "total",
}

#: Width of the editing tabs (px); the comparison takes the rest of the page.
EDIT_WIDTH = 760

MOVER_COLUMNS = [
    "enterprise_id",
    "year",
    "park",
    "stage",
    "list",
    "change",
    "tier_base",
    "tier_candidate",
    "rank_base",
    "rank_candidate",
    "total_change",
    "margin_candidate",
    "drivers",
]


def _names(fw: Framework, lang: str) -> dict[str, str]:
    return {i.id: (i.name.zh if lang == "zh" else i.name.en) for i in fw.indicators}


class Page:
    """One browser session: a :class:`Workbench` and the widgets that show it."""

    def __init__(
        self, workbench: Workbench, *, lang: str = "zh", out_dir: Path, on_save: SaveHook | None
    ) -> None:
        import panel as pn

        self.pn = pn
        self.wb = workbench
        self.lang = lang
        self.out_dir = out_dir
        self.on_save = on_save
        self.message = pn.pane.Alert(
            "", alert_type="danger", visible=False, css_classes=["cb-message"]
        )
        self.status = pn.pane.Markdown("", css_classes=["cb-status"])
        self.summary = pn.pane.Markdown("", css_classes=["cb-summary"])
        self.years = pn.pane.Markdown("", css_classes=["cb-years"])
        self.points = self._table(css="cb-points")
        self.goalposts = self._table(css="cb-goalposts")
        self.tiers = self._table(css="cb-tiers")
        self.subsidy_table = self._table(css="cb-subsidies")
        self.budget = self._table(css="cb-budget", editable=False)
        self.lists = self._table(css="cb-lists", editable=False)
        self.movers = self._table(css="cb-movers", editable=False, height=360)
        self.subsidies = self._table(css="cb-subsidy-result", editable=False)
        self.outcomes = self._table(css="cb-outcomes", editable=False)
        self.points.on_edit(self._on_points)
        self.goalposts.on_edit(self._on_goalpost)
        self.tiers.on_edit(self._on_tier)
        self.subsidy_table.on_edit(self._on_subsidy)
        self._build_controls()
        self.root = pn.Column(sizing_mode="stretch_width")
        self.render()

    # -- widgets ----------------------------------------------------------------------------------
    def _table(self, *, css: str, editable: bool = True, height: int | None = None) -> Any:
        # Editing tables sit in the fixed-width tabs (they scroll sideways when wider); the
        # comparison's tables take the rest of the page.
        opts: dict[str, Any] = {
            "show_index": False,
            "layout": "fit_data_table",
            "css_classes": [css],
            "disabled": not editable,
        }
        if editable:
            opts["width"] = EDIT_WIDTH - 20
        else:
            opts["sizing_mode"] = "stretch_width"
        if height:
            opts["height"] = height
        return self.pn.widgets.Tabulator(pd.DataFrame(), **opts)

    def _build_controls(self) -> None:
        pn = self.pn
        self.lang_switch = pn.widgets.RadioButtonGroup(
            options=["中文", "English"],
            value="中文" if self.lang == "zh" else "English",
            css_classes=["cb-lang"],
        )
        self.lang_switch.param.watch(self._on_lang, "value")
        self.reset_button = pn.widgets.Button(css_classes=["cb-reset"])
        self.reset_button.on_click(lambda _e: self._show(self.wb.reset()))
        self.path_input = pn.widgets.TextInput(css_classes=["cb-path-file"])
        self.load_button = pn.widgets.Button(css_classes=["cb-load"])
        self.load_button.on_click(self._on_load)
        self.step = pn.widgets.IntSlider(
            start=0, end=1, value=0, disabled=True, css_classes=["cb-step"]
        )
        self.step.param.watch(self._on_step, "value_throttled")
        self.path_table = self._table(css="cb-path", editable=False)
        self.path_note = pn.pane.Markdown("")
        self.firm_input = pn.widgets.TextInput(css_classes=["cb-firm-id"])
        self.firm_button = pn.widgets.Button(css_classes=["cb-firm-search"])
        self.firm_button.on_click(self._on_firm)
        self.firm_head = pn.pane.Markdown("", css_classes=["cb-firm-head"])
        self.firm_points = self._table(css="cb-firm-points", editable=False)
        self.firm_path = self._table(css="cb-firm-path", editable=False)
        self.save_button = pn.widgets.Button(css_classes=["cb-save"])
        self.save_button.on_click(self._on_save)
        self.save_note = pn.pane.Markdown("", css_classes=["cb-saved"])

    # -- layout -----------------------------------------------------------------------------------
    def layout(self) -> Any:
        pn, lang = self.pn, self.lang
        tabs = pn.Tabs(
            (
                t("tab_points", lang),
                pn.Column(pn.pane.Markdown(t("points_help", lang)), self.points),
            ),
            (
                t("tab_goalposts", lang),
                pn.Column(pn.pane.Markdown(t("goalposts_help", lang)), self.goalposts),
            ),
            (
                t("tab_lists", lang),
                pn.Column(pn.pane.Markdown(t("lists_help", lang)), self.tiers, self.subsidy_table),
            ),
            (
                t("tab_path", lang),
                pn.Column(
                    self.path_input, self.load_button, self.step, self.path_note, self.path_table
                ),
            ),
            (
                t("tab_firm", lang),
                pn.Column(
                    pn.Row(self.firm_input, self.firm_button),
                    self.firm_head,
                    self.firm_points,
                    self.firm_path,
                ),
            ),
            (t("tab_save", lang), pn.Column(self.save_button, self.save_note)),
            dynamic=False,
            width=EDIT_WIDTH,
        )
        results = pn.Column(
            sizing_mode="stretch_width",
            margin=(0, 0, 0, 20),
            objects=[
                pn.pane.Markdown(f"## {t('results', lang)}"),
                self.summary,
                pn.pane.Markdown(f"### {t('budget', lang)}"),
                self.budget,
                pn.pane.Markdown(f"### {t('lists_table', lang)}"),
                self.lists,
                self.movers,
                pn.pane.Markdown(f"### {t('subsidies_table', lang)}"),
                self.subsidies,
                pn.pane.Markdown(f"### {t('outcomes', lang)}"),
                self.years,
                self.outcomes,
            ],
        )
        header = pn.Row(
            pn.pane.Markdown(
                f"# {t('title', lang)}\n{t('subtitle', lang, base=self._base_label())}"
            ),
            pn.Column(pn.pane.Markdown(t("lang", lang)), self.lang_switch, self.reset_button),
        )
        return pn.Column(
            header, self.message, self.status, pn.Row(tabs, results), sizing_mode="stretch_width"
        )

    def _base_label(self) -> str:
        fw = self.wb.baseline.framework
        return f"{fw.name.zh if self.lang == 'zh' else fw.name.en}（{fw.id} {fw.version}）"

    def render(self) -> None:
        lang = self.lang
        self.reset_button.name = t("reset", lang)
        self.load_button.name = t("load", lang)
        self.path_input.name = t("path_file", lang)
        self.step.name = t("step", lang)
        self.firm_input.name = t("firm_id", lang)
        self.firm_button.name = t("search", lang)
        self.save_button.name = t("save", lang)
        self.refresh_editors()
        self.refresh_results()
        self.root.objects = [self.layout()]

    # -- tables from the workbench ---------------------------------------------------------------
    def refresh_editors(self) -> None:
        fw, lang = self.wb.candidate, self.lang
        names = _names(fw, lang)
        table = self.wb.points_table()
        pts = pd.DataFrame({"indicator": table.index, "name": [names[i] for i in table.index]})
        pts["group"] = [
            g.name.zh if lang == "zh" else g.name.en for g in map(fw.group, table["group"])
        ]
        for s in fw.stage_ids:
            pts[s] = table[s].to_numpy(dtype=float)
        self._set(self.points, pts, fw, editable=list(fw.stage_ids))
        rows = []
        for ind in fw.indicators:
            if isinstance(ind.rule, LinearRule):
                for s in fw.stage_ids:
                    low, high = _at(ind.rule.low, s), _at(ind.rule.high, s)
                    rows.append(
                        {
                            "indicator": ind.id,
                            "name": names[ind.id],
                            "stage": s,
                            "low": low,
                            "high": high,
                        }
                    )
        self._set(self.goalposts, pd.DataFrame(rows), fw, editable=["low", "high"])
        tiers = pd.DataFrame(
            [
                {
                    "list": tr.id,
                    "name": tr.name.zh if lang == "zh" else tr.name.en,
                    "top_fraction": tr.top_fraction,
                }
                for tr in fw.tiers
            ]
        )
        self._set(self.tiers, tiers, fw, editable=["top_fraction"])
        subs = pd.DataFrame(
            [
                {
                    "stage": sub.stage,
                    "top_fraction": sub.top_fraction,
                    "amount_wan": sub.amount_wan,
                    "max_firms": math.nan if sub.max_firms is None else float(sub.max_firms),
                }
                for sub in fw.subsidies
            ]
        )
        self._set(
            self.subsidy_table, subs, fw, editable=["top_fraction", "amount_wan", "max_firms"]
        )

    def _set(self, table: Any, frame: pd.DataFrame, fw: Framework, *, editable: list[str]) -> None:
        table.editors = {
            c: (None if c not in editable else {"type": "number"}) for c in frame.columns
        }
        table.titles = self._titles(frame.columns, fw)
        table.value = frame

    def _join(self, problems: tuple[str, ...]) -> str:
        return ("；" if self.lang == "zh" else "; ").join(problems)

    def _fill(self, table: Any, frame: pd.DataFrame, fw: Framework) -> None:
        """Show ``frame``: titles in the page's language, stage and list ids as names."""
        if "year" in frame.columns:
            frame = frame.assign(year=frame["year"].astype("string"))  # 2024, not 2,024
        names = self._value_names(fw)
        for col in ("stage", "list", "tier_base", "tier_candidate", "change"):
            if col in frame.columns:
                values = frame[col].astype("string")
                frame = frame.assign(**{col: values.map(lambda v: names.get(v, v))})
        table.titles = self._titles(frame.columns, fw)
        table.value = frame

    def _value_names(self, fw: Framework) -> dict[Any, Any]:
        zh = self.lang == "zh"
        names: dict[Any, Any] = {s.id: (s.name.zh if zh else s.name.en) for s in fw.stages}
        for tier in (*self.wb.baseline.framework.tiers, *fw.tiers):
            names[tier.id] = tier.name.zh if zh else tier.name.en
        for key in ("none_list", "vetoed", "entered", "left_list", "total_row"):
            names[_VALUE_KEYS[key]] = t(key, self.lang)
        return names

    def _titles(self, columns: Any, fw: Framework) -> dict[str, str]:
        lang = self.lang
        stage_names = {s.id: (s.name.zh if lang == "zh" else s.name.en) for s in fw.stages}
        out = {}
        for c in columns:
            if c in stage_names:
                out[c] = stage_names[c]
            else:
                out[c] = column_title(str(c), lang)
        return out

    def refresh_results(self, *, outcomes_later: bool = False) -> None:
        """Redraw the comparison; with ``outcomes_later`` the outcome metrics follow on the next
        tick, so the comparison reaches the browser before they are computed."""
        lang, view = self.lang, self.wb.view(outcomes=False)
        o = view.overall
        if self.wb.comparison.unchanged:
            summary = [t("unchanged", lang)]
        else:
            summary = []
        summary.append(
            t(
                "churn",
                lang,
                spearman=o["spearman"],
                kendall=o["kendall"],
                mean=o["mean_abs_rank_move"],
                max=o["max_abs_rank_move"],
                share=o["share_rank_moved"],
            )
        )
        summary.append(
            t(
                "list_moves",
                lang,
                entered=int(o["entered"]),
                left=int(o["left"]),
                newly=int(o["newly_listed"]),
                delisted=int(o["delisted"]),
            )
        )
        summary.append(
            t(
                "subsidy_moves",
                lang,
                gained=int(o["subsidy_gained"]),
                lost=int(o["subsidy_lost"]),
                base=o["subsidy_base_wan"],
                cand=o["subsidy_candidate_wan"],
                net=o["subsidy_net_wan"],
            )
        )
        summary.append(t("movers", lang, shown=len(view.movers), n=view.n_movers))
        self.summary.object = "\n\n".join(summary)
        self._fill(self.budget, self._budget_frame(view.budget), self.wb.candidate)
        fw = self.wb.candidate
        self._fill(self.lists, view.lists, fw)
        self._fill(
            self.movers, view.movers[[c for c in MOVER_COLUMNS if c in view.movers.columns]], fw
        )
        self._fill(self.subsidies, view.subsidies.reset_index(), fw)
        curdoc = self.pn.state.curdoc
        if outcomes_later and curdoc is not None and curdoc.session_context is not None:
            curdoc.add_next_tick_callback(self.refresh_outcomes)
        else:
            self.refresh_outcomes()

    def refresh_outcomes(self) -> None:
        self.years.object = self._years_text()
        table = self.wb.outcome_metrics()
        frame = pd.DataFrame() if table is None else table.reset_index()
        self._fill(self.outcomes, frame, self.wb.candidate)

    def _years_text(self) -> str:
        lang, b = self.lang, self.wb.baseline
        if b.labels is None:
            return t("no_events", lang)
        y = self.wb.evaluation_years
        if not y.years:
            return t("years_none", lang)
        years = ", ".join(str(v) for v in y.years)
        if y.held_out:
            train = ", ".join(str(v) for v in self.wb.train_years)
            return t(
                "years_held_out", lang, years=years, train=train, target=b.target, horizon=b.horizon
            )
        return t("years_plain", lang, years=years, target=b.target, horizon=b.horizon)

    # -- events -----------------------------------------------------------------------------------
    def _show(self, outcome: EditOutcome) -> None:
        lang = self.lang
        if outcome.status == "refused":
            self.message.object = t("status_refused", lang) + self._join(outcome.problems)
            self.message.alert_type = "danger"
            self.message.visible = True
        elif outcome.status == "draft":
            self.message.object = t("status_draft", lang) + self._join(outcome.problems)
            self.message.alert_type = "warning"
            self.message.visible = True
        else:
            notes = self._join(outcome.problems)
            self.message.object = notes
            self.message.alert_type = "info"
            self.message.visible = bool(notes)
            start = time.perf_counter()
            self.refresh_results(outcomes_later=True)
            seconds = outcome.seconds + time.perf_counter() - start
            self.status.object = t("status_scored", lang, ms=seconds * 1000)
        self.refresh_editors()
        if outcome.status == "draft":
            self._fill(self.budget, self._budget_frame(), self.wb.candidate)

    def _budget_frame(self, state: pd.DataFrame | None = None) -> pd.DataFrame:
        state = self.wb.budget_state() if state is None else state
        out = state.reset_index()
        out["balanced"] = [t("yes" if b else "no", self.lang) for b in out["balanced"]]
        return out.rename(columns={"budget": "budget_col"})

    def _guard(self, action: Callable[[], EditOutcome]) -> None:
        """Run an edit; anything unexpected becomes a message, never a dead session."""
        try:
            outcome = action()
        except (CalibrateError, KeyError, ValueError, TypeError, IndexError) as exc:
            outcome = EditOutcome("refused", (str(exc),))
        self._show(outcome)

    def _row(self, table: Any, event: Any) -> pd.Series:
        return table.value.iloc[event.row]

    def _on_points(self, event: Any) -> None:
        row = self._row(self.points, event)
        self._guard(
            lambda: self.wb.set_points(
                str(row["indicator"]), str(event.column), _number(event.value)
            )
        )

    def _on_goalpost(self, event: Any) -> None:
        row = self._row(self.goalposts, event)
        self._guard(
            lambda: self.wb.set_goalpost(
                str(row["indicator"]), str(row["stage"]), str(event.column), _number(event.value)
            )
        )

    def _on_tier(self, event: Any) -> None:
        row = self._row(self.tiers, event)
        self._guard(lambda: self.wb.set_list_fraction(str(row["list"]), _number(event.value)))

    def _on_subsidy(self, event: Any) -> None:
        self._guard(
            lambda: self.wb.set_subsidy(int(event.row), str(event.column), _number(event.value))
        )

    def _on_lang(self, event: Any) -> None:
        self.lang = "zh" if event.new == "中文" else "en"
        self.render()

    def _on_load(self, _event: Any) -> None:
        from calibrate.framework import load_framework

        def load() -> EditOutcome:
            fw = load_framework(self.path_input.value.strip())
            outcome = self.wb.load_suggestion(fw)
            path = self.wb.edit_path
            last = int(path["step"].max()) if len(path) else 0
            self.step.start, self.step.end = 0, max(last, 1)
            self.step.value = last
            self.step.disabled = last == 0
            self._fill(self.path_table, _readable(path), self.wb.candidate)
            self.path_note.object = t("path_loaded", self.lang, id=fw.id, n=last)
            return outcome

        self._guard(load)

    def _on_step(self, event: Any) -> None:
        step = int(event.new)
        self._guard(lambda: self.wb.step_to(step))
        path = self.wb.edit_path
        rows = path[path["step"] == step]
        if len(rows):
            text = rows.iloc[0]["text_zh" if self.lang == "zh" else "text_en"]
            self.path_note.object = f"**{t('step', self.lang)} {step}**：{text or ''}"

    def _on_firm(self, _event: Any) -> None:
        try:
            self._firm(self.firm_input.value.strip())
        except (CalibrateError, KeyError, ValueError) as exc:
            self.message.object = str(exc).strip("'\"")
            self.message.alert_type = "danger"
            self.message.visible = True

    def _firm(self, eid: str) -> None:
        lang = self.lang
        years = self.wb.find_firm(eid)
        year = years.max()
        pts = self.wb.firm_points(eid, year)
        name_col = "name_zh" if lang == "zh" else "name_en"
        table = pd.DataFrame(
            {
                "indicator": pts.index,
                "name": pts[name_col].to_numpy(),
                "old": pts["old"].to_numpy(),
                "new": pts["new"].to_numpy(),
                "change": pts["change"].to_numpy(),
            }
        )
        self._fill(self.firm_points, table, self.wb.candidate)
        path = self.wb.firm_path(eid, year)
        none = t("none_list", lang)
        if path.reason:
            head = t("nearest_none", lang, reason=path.reason)
        else:
            head = t(
                "nearest_head",
                lang,
                tier=path.tier or none,
                target=path.target or none,
                total=path.total,
                cutoff=path.cutoff,
                need=path.need,
            )
        self.firm_head.object = (
            f"**{eid} · {year}** — {t('firm_points', lang)}\n\n{t('nearest', lang)}: {head}"
        )
        frame = path.frame.reset_index()
        keep = [
            "indicator",
            name_col,
            "current",
            "threshold",
            "change",
            "points_now",
            "points_after",
            "reachable",
        ]
        frame = frame.rename(columns={frame.columns[0]: "indicator"})
        frame = frame[[c for c in keep if c in frame.columns]].rename(columns={name_col: "name"})
        self._fill(self.firm_path, frame, self.wb.candidate)
        self.message.visible = False

    def _on_save(self, _event: Any) -> None:
        lang = self.lang
        if self.wb.draft:
            self.save_note.object = t("save_draft", lang)
            return
        yaml_path = self.wb.save_framework(self.out_dir)
        xlsx_path = self.wb.save_comparison(self.out_dir)
        note = t("saved", lang, yaml=yaml_path, xlsx=xlsx_path)
        run = self.on_save(self.wb.candidate, [yaml_path, xlsx_path]) if self.on_save else None
        note += "\n\n" + (t("saved_run", lang, run=run) if run else t("saved_no_track", lang))
        self.save_note.object = note


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Mapping cells (e.g. an edit's ``train: {auc: 0.81}``) as short text for a table."""
    out = frame.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, dict)).any():
            out[col] = out[col].map(
                lambda v: (
                    "; ".join(f"{k} {_short(x)}" for k, x in v.items())
                    if isinstance(v, dict)
                    else v
                )
            )
    return out


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _at(value: Any, stage: str) -> float:
    return (
        float(value[stage]) if isinstance(value, dict) or hasattr(value, "keys") else float(value)
    )


def _number(value: Any) -> float:
    if value is None or value == "":
        return math.nan
    return float(value)
