"""The explainability report: built from real result objects on a small synthetic panel.

Every object is the real thing (synthetic panel → scores → suggestion → comparison → rank
uncertainty → a monotone GBM and its SHAP values); they are built once per session by
:func:`report_objects`, which ``test_report_browser.py`` reuses.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import re
import warnings
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

from calibrate import metrics
from calibrate.compare import compare
from calibrate.explain import shap_importance
from calibrate.framework import load_framework
from calibrate.models import MonotoneGBM, features_from_scores, fit_temporal, policy_directions
from calibrate.outcomes import make_labels
from calibrate.report import (
    SECTIONS,
    ChromiumMissingWarning,
    ReportInputs,
    build_report,
    plot_metrics,
    plot_points_intervals,
    plot_rank_intervals,
    plot_seat_shares,
    plot_shap,
    plot_transitions,
    plot_waterfall,
    render_html,
    style,
)
from calibrate.report.calibration import read_calibration
from calibrate.report.context import _TITLE_KEYS
from calibrate.report.i18n import MESSAGES, Translator
from calibrate.report.plots import plot_points_grid
from calibrate.scoring import score
from calibrate.sensitivity import FromIntervals, rank_uncertainty
from calibrate.suggest import suggest
from calibrate.synth import SynthConfig, generate

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
LINKS = re.compile(r'\b(?:src|href)\s*=\s*"([^"]*)"', re.IGNORECASE)


def contract_block(s: Any) -> dict[str, Any]:
    """The suggestion's calibration block extended as the suggestion-engine contract says.

    Marks, pins, direction checks and the edit path are set by hand so the report's claims can be
    checked against them: the first changed point of the first stage is confident, the second
    pinned at the max-change cap, the third pinned at a bound, the rest unsure.
    """
    block = dict(s.framework.calibration)
    first_stage = str(s.points["stage"].iloc[0])
    changed = 0
    points = []
    for p in block["points"]:
        p = dict(p)
        p["pinned"], p["confident"] = None, False
        if p["stage"] == first_stage and p["current"] != p["suggested"]:
            p["pinned"], p["confident"] = (
                [
                    (None, True),
                    ("max_change", True),
                    ("bound", False),
                ][min(changed, 2)]
                if changed < 3
                else (None, False)
            )
            changed += 1
        points.append(p)
    block["points"] = points
    block["held_out_years"] = list(s.test_years)
    block["directions"] = [
        {
            "indicator": "rd_intensity",
            "rule_direction": 1,
            "marginal": 0.12,
            "conditional": -0.03,
            "sign_probability": 0.35,
            "verdict": "reversed",
            "action": "reported",
        }
    ]
    auc0, auc1 = (float(s.metrics.loc["auc_within_group", c]) for c in ("current", "suggested"))
    block["edits"] = [
        {
            "step": k,
            "move": move,
            "indicator": ind,
            "text_zh": zh,
            "text_en": en,
            "train": {"auc_within_group": 0.80 + 0.02 * k},
            "held_out": {"auc_within_group": auc0 + (auc1 - auc0) * k / 2},
            "chosen_share": share,
            "firms_changing_list": 12 * k,
        }
        for k, (move, ind, zh, en, share) in enumerate(
            [
                ("points", None, "起始框架", "starting framework", 1.0),
                ("points", None, "重新分配核心分值", "re-weight the core points", 0.9),
                ("drop", "tax_growth", "删除纳税增长率", "", 0.6),
            ]
        )
    ]
    block["bootstrap_draws_file"] = "suggested.draws.csv"
    return block


@lru_cache(maxsize=1)
def report_objects() -> SimpleNamespace:
    """Real result objects on a small synthetic panel (built once per session)."""
    panel = generate(
        SynthConfig(enterprises=600, parks=2, years=(2019, 2023), seed=2), progress=False
    )
    fw = load_framework("longwan-2022")
    data = panel.enterprises
    base_scores = score(fw, data)
    s = suggest(
        fw,
        data,
        panel.events,
        "hte_certified",
        n_bootstrap=5,
        progress=False,
        base_scores=base_scores,
    )
    c = compare(
        fw, s.framework, data, events=panel.events, target="hte_certified", base_scores=base_scores
    )
    intervals = s.points[["indicator", "stage", "low", "high"]]
    ru = rank_uncertainty(
        fw, scores=base_scores, weights=FromIntervals(intervals), n_draws=100, seed=0
    )
    labels = make_labels(data, panel.events, "hte_certified", 1)
    mask = labels.labelled_mask
    X = features_from_scores(base_scores)[mask]
    years = data["year"].to_numpy()[mask]
    gbm = MonotoneGBM(policy_directions(fw), n_estimators=40, n_jobs=1)
    fit = fit_temporal(gbm, X, labels.y, years, base_scores.group_code[mask], min_train_years=2)
    shap = shap_importance(fit.estimators[max(fit.estimators)], X, max_rows=300, seed=0)
    # the oracle: the generator's true probability, on the suggestion's held-out rows
    held = (
        mask
        & np.isin(data["year"].to_numpy(), s.test_years)
        & ~base_scores.frame["vetoed"].to_numpy(bool)
    )
    y = labels.frame["label"].to_numpy(dtype=np.float64, na_value=0.0)[held].astype(np.int8)
    prob = panel.truth["oracle_hte_certified_h1"].to_numpy(dtype=np.float64)[held]
    prob = (
        prob + 1e-9 * base_scores.frame["percentile"].to_numpy(dtype=np.float64)[held]
    )  # break ties
    group = base_scores.group_code[held]
    oracle = {
        "n": float(len(y)),
        "events": float(y.sum()),
        "auc_within_group": metrics.roc_auc(y, prob),
    }
    for k in (5, 10, 20):
        oracle[f"prec_top{k}"] = metrics.precision_at_top(y, prob, group, k / 100)
        oracle[f"lift_top{k}"] = metrics.lift_at_top(y, prob, group, k / 100)
    candidate = dataclasses.replace(s.framework, calibration=contract_block(s))
    inputs = ReportInputs(
        base=fw,
        candidate=candidate,
        calibration=read_calibration(candidate, draws=s.bootstrap_draws),
        suggestion=s,
        comparison=c,
        sensitivity=ru,
        shap=shap,
        fit=fit,
        extra_metrics={"oracle": oracle},
        data=data,
        synthetic=True,
        notes=["test note 测试说明"],
    )
    return SimpleNamespace(
        panel=panel,
        fw=fw,
        data=data,
        base_scores=base_scores,
        suggestion=s,
        comparison=c,
        sensitivity=ru,
        fit=fit,
        shap=shap,
        oracle=oracle,
        inputs=inputs,
        candidate=candidate,
    )


@pytest.fixture(scope="module")
def objs() -> SimpleNamespace:
    return report_objects()


@pytest.fixture(scope="module")
def built(objs: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    return {
        lang: build_report(objs.inputs, out / f"report.{lang}.html", lang=lang).html
        for lang in ("zh", "en")
    }


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _visible(page: str) -> str:
    """Text of the page as a reader sees it (tags dropped, entities decoded)."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# --- structure -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_heading_is_present(built: dict[str, Path], lang: str) -> None:
    page = _text(built[lang])
    t = Translator(lang)
    assert page.startswith("<!DOCTYPE html>")
    assert f'<html lang="{t("html_lang")}">' in page
    for k, sid in enumerate(SECTIONS, start=1):
        assert f'id="{sid}"' in page
        assert f"<h2>{k}. {html.escape(t(_TITLE_KEYS[sid]))}</h2>" in page
    assert 'class="report-section omitted"' not in page  # everything was given
    assert "本节略去" not in page and "Section omitted" not in page


def test_chinese_by_default_english_on_request(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    zh, en = _visible(_text(built["zh"])), _visible(_text(built["en"]))
    assert "概览" in zh and "Overview" not in zh
    assert "Overview" in en and "概览" not in en
    default = render_html(ReportInputs(base=objs.fw))
    assert '<html lang="zh-CN">' in default and "<h2>1. 概览</h2>" in default


def test_images_are_embedded_pngs(built: dict[str, Path]) -> None:
    page = _text(built["zh"])
    images = DATA_URI.findall(page)
    # points (1), held-out metrics, all-year metrics, SHAP, rank intervals, edit path,
    # transitions, seat shares × 3, 4 firm cards
    assert len(images) == 14
    assert page.count("<img ") == len(images)
    for payload in images:
        assert base64.b64decode(payload)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_external_resources(built: dict[str, Path], lang: str) -> None:
    page = _text(built[lang])
    links = LINKS.findall(page)
    assert links, "the table of contents links to sections"
    for link in links:
        if link.startswith("data:image/png;base64,"):
            continue  # embedded image (its base64 payload may spell anything)
        assert link.startswith("#") and "http" not in link.lower() and "//" not in link, link
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page, re.IGNORECASE)
    assert "<link" not in page and "@import" not in page and "<script" not in page
    # the one url( is the embedded font
    assert page.count("url(") == 1 and page.count("@font-face") == 1
    assert "url(data:font/woff;base64," in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_embedded_font_has_every_character_of_the_page(built: dict[str, Path], lang: str) -> None:
    import io

    from fontTools.ttLib import TTFont

    page = _text(built[lang])
    payload = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert payload is not None
    font = TTFont(io.BytesIO(base64.b64decode(payload.group(1))))
    cmap = font.getBestCmap()
    text = _visible(page)
    missing = {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, sorted(missing)[:20]
    assert len(payload.group(1)) < 2_000_000  # a subset, not the 16 MB font


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_indicator_is_named_in_both_languages(
    built: dict[str, Path], objs: SimpleNamespace, lang: str
) -> None:
    text = _visible(_text(built[lang]))
    pts = objs.suggestion.points
    for zh, en in pts[["name_zh", "name_en"]].drop_duplicates().itertuples(index=False):
        both = f"{zh} {en}" if lang == "zh" else f"{en} {zh}"
        assert both in text, both
    name = objs.fw.indicator(
        "rd_intensity"
    ).name  # e.g. "研发费用占营业收入比例 R&D expense / operating revenue"
    assert f"{name.zh} {name.en}" in _visible(_text(built["zh"]))
    assert f"{html.escape(name.zh)} {html.escape(name.en)}" in _text(
        built["zh"]
    )  # R&amp;D in the source


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reconstructed_element_is_listed(
    built: dict[str, Path], objs: SimpleNamespace, lang: str
) -> None:
    text = _visible(_text(built[lang]))
    limitations = text[text.index(Translator(lang)("h_reconstructed")) :]
    t = Translator(lang)
    frameworks = [objs.fw, objs.suggestion.framework]
    assert objs.fw.reconstructed() and objs.suggestion.framework.reconstructed()
    for fw in frameworks:
        for what, why in fw.reconstructed():
            kind, _, ident = what.partition(" ")
            assert f"{t(f'kind_{kind}')} {ident}" in limitations, what
            assert why in limitations, what


def test_summary_says_what_was_tested_changed_and_how_sure(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    text = _visible(_text(built["en"]))
    summary = text[text.index("1. Overview") : text.index("Data and method")]
    s = objs.suggestion
    year = int(objs.data["year"].max())
    assert "national high-tech enterprise certification" in summary
    assert f"changes {len(s.diff())} of {len(s.points)} indicator × stage points" in summary
    assert "On held-out years 2022 (not used for fitting), AUC (within group) goes from" in summary
    assert "oracle" in summary
    # the fixture marks 1 point confident and pins 2, but the warnings call every stage of this
    # small panel "mostly noise": so no confident mark survives
    assert "calls 0 changes confident" in summary and "2 are pinned" in summary
    assert "Few bootstrap samples (5)" in summary
    entered = _year_entered(objs, year)
    assert f"In {year}, {entered} firms enter a list" in summary


def _year_entered(objs: SimpleNamespace, year: int) -> int:
    from calibrate.report._data import year_comparison

    return int(year_comparison(objs.comparison, year).overall["entered"])


def test_data_and_method_and_samples(built: dict[str, Path], objs: SimpleNamespace) -> None:
    text = _visible(_text(built["en"]))
    s = objs.suggestion
    for value in (
        s.data_fingerprint,
        objs.fw.fingerprint,
        "2019–2021",
        "2022",
        "within 1 year(s)",
        "log-likelihood",
        "5 samples of firms",
    ):
        assert value in text, value
    assert "Synthetic data" in text and "test note 测试说明" in text
    assert f"SHAP: {objs.shap.n_rows_used:,} of {objs.shap.n_rows_total:,} firm-years" in text
    assert "Computed on 300 firm-years" in text


def test_metrics_side_by_side_with_extra_columns(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    page = _text(built["en"])
    section = page[page.index('id="calibration"') : page.index('id="uncertainty"')]
    held = section[: section.index("Performance on years")]
    assert "Performance on held-out years 2022 (not used for fitting)" in held
    for column in ("official points", "suggested points", "oracle"):
        assert f'<th class="num">{column}</th>' in held, column
    assert f"{objs.oracle['auc_within_group']:.3f}".rstrip("0") in section
    assert "The oracle is the true probability" in section


def test_what_if_lists_entrants_leavers_subsidies_and_seats(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    text = _visible(_text(built["en"]))
    whatif = text[text.index("6. What-if") : text.index("7. Seats by")]
    c = objs.comparison
    first = c.entered(0).iloc[0]
    assert first["enterprise_id"] in whatif
    top_driver = first["drivers"].split(";")[0].split()[0]
    assert c.base.indicator(top_driver).name.en in whatif  # reasons are named, not ids
    for heading in (
        "Rank agreement",
        "Tier transitions",
        "Entrants and leavers",
        "Subsidies moved",
    ):
        assert heading in whatif
    fairness = text[text.index("7. Seats by") : text.index("8. Example firms")]
    assert "By park" in fairness and "By industry" in fairness and "By stage" in fairness
    for heading in ("Seat shares by park", "Seat shares by industry", "Seat shares by stage"):
        assert heading in fairness


def test_cards_and_uncertainty(built: dict[str, Path], objs: SimpleNamespace) -> None:
    page = _text(built["en"])
    assert page.count('<article class="card">') == 4
    text = _visible(page)
    assert "Nearest path to the next list" in text
    assert "Firms whose list is least certain" in text
    worst = objs.sensitivity.uncertain().iloc[0]["enterprise_id"]
    assert worst in text


def test_same_inputs_same_bytes(
    built: dict[str, Path], objs: SimpleNamespace, tmp_path: Path
) -> None:
    again = build_report(objs.inputs, tmp_path, lang="zh")
    assert again.html == tmp_path / "report.html" and again.pdf is None
    assert again.html.read_bytes() == built["zh"].read_bytes()


# --- omitted sections ---------------------------------------------------------------------------------


def _omitted(page: str) -> set[str]:
    return set(re.findall(r'<section class="report-section omitted" id="([^"]+)">', page))


def test_suggestion_alone(objs: SimpleNamespace) -> None:
    page = render_html(objs.suggestion, lang="en")
    # the engine writes its edit path into the calibration block, so the edits section is filled
    assert _omitted(page) == {"compare", "uncertainty", "firms"}
    assert "Section omitted: no framework comparison (Comparison) was given." in page
    # subgroups keeps the gaming check, which needs the two frameworks only
    fairness = _visible(page[page.index('id="subgroups"') : page.index('id="firms"')])
    assert "Gaming check" in fairness and "Section omitted" in fairness
    assert len(DATA_URI.findall(page)) == 3  # points, metrics, the edit path
    for sid in SECTIONS:
        assert f'id="{sid}"' in page


def test_gaming_check_names_cheaper_manipulable_indicators(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    from calibrate.explain import compare_gaming

    text = _visible(_text(built["en"]))
    gaming = text[text.index("Gaming check") : text.index("8. Example firms")]
    g = compare_gaming(objs.fw, objs.suggestion.framework, objs.data)
    paper = g.cheaper(manipulable=True)
    assert f"{len(g.cheaper())} indicator × stage cells earn more points per unit" in gaming
    first = paper.iloc[0]
    assert f"{first['name_en']} {first['name_zh']}" in gaming


def test_no_bootstrap_no_intervals(objs: SimpleNamespace) -> None:
    s = objs.suggestion
    block = dict(s.framework.calibration, n_bootstrap=0)
    block["points"] = [dict(p, low=None, high=None) for p in block["points"]]
    bare = dataclasses.replace(
        s,
        n_bootstrap=0,
        points=s.points.assign(low=float("nan"), high=float("nan")),
        framework=dataclasses.replace(s.framework, calibration=block),
    )
    page = render_html(bare, lang="en")
    assert "No bootstrap: the suggested points have no intervals." in page
    assert "★" not in _visible(page)
    assert len(DATA_URI.findall(page)) == 3  # points, metrics, the edit path


def test_frameworks_without_lists(objs: SimpleNamespace) -> None:
    plain = dataclasses.replace(objs.fw, tiers=(), subsidies=())
    other = plain.reweight({"rd_intensity": 2.0})
    rows = objs.data[objs.data["year"] == 2023].reset_index(drop=True)
    c = compare(plain, other, rows)
    page = render_html(c, lang="en")
    assert _omitted(page) == {"points", "calibration", "uncertainty", "edits", "firms", "warnings"}
    assert "no firm to show" in page
    assert "Neither framework publishes lists: there are no seats to compare." in page


def test_comparison_alone(objs: SimpleNamespace) -> None:
    page = render_html(objs.comparison, lang="zh")
    assert _omitted(page) == {"uncertainty"}  # the candidate's block carries its edit path
    assert "本节略去：候选框架没有标定记录（calibration），也未提供建议结果。" not in page
    text = _visible(page)
    assert "基准框架" in text and "候选框架" in text  # comparison's own outcome metrics
    # the candidate carries its calibration block: the all-year metrics include the fitting years
    assert "（其中 2019–2021 年用于求解分值，样本内）" in text
    assert "检验年份 2022 年（未用于求解分值，样本外）" in text


def test_base_framework_alone(objs: SimpleNamespace) -> None:
    page = render_html(ReportInputs(base=objs.fw), lang="en")
    assert _omitted(page) == set(SECTIONS) - {"overview", "provenance"}
    assert "Section omitted: the candidate has no calibration block" in page
    assert not DATA_URI.findall(page)
    text = _visible(page)
    for _what, why in objs.fw.reconstructed():
        assert why in text


def test_scores_alone_make_a_comparison(objs: SimpleNamespace) -> None:
    c = objs.comparison
    inputs = ReportInputs(
        base=c.base,
        candidate=c.candidate,
        base_scores=c.base_scores,
        candidate_scores=c.candidate_scores,
        firms=[
            (str(c.left(0).iloc[0]["enterprise_id"]), int(c.left(0).iloc[0]["year"])),
            ("nobody", 2020),
        ],
    )
    page = render_html(inputs, lang="en")
    assert "what-if" not in _omitted(page) and "cards" not in _omitted(page)
    assert page.count('<article class="card">') == 1
    assert "Firm nobody (2020) was not found." in page


def test_pdf_skipped_with_a_warning_without_chromium(
    objs: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALIBRATE_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.warns(ChromiumMissingWarning, match="PDF was skipped"):
        files = build_report(ReportInputs(base=objs.fw), tmp_path / "out", pdf=True)
    assert files.pdf is None and files.html.is_file()
    html_path, pdf_path = files
    assert html_path == tmp_path / "out" / "report.html" and pdf_path is None


def test_bad_language_and_inputs(objs: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="lang must be one of zh, en; got 'fr'"):
        render_html(objs.suggestion, lang="fr")
    with pytest.raises(
        TypeError, match="needs ReportInputs, a Suggestion or a Comparison; got str"
    ):
        render_html("longwan-2022")  # type: ignore[arg-type]


def test_i18n_table_is_complete() -> None:
    for key, pair in MESSAGES.items():
        assert len(pair) == 2 and all(isinstance(x, str) and x for x in pair), key
        zh, en = (set(re.findall(r"{(\w+)}", text)) for text in pair)
        assert zh == en, key


# --- plots ----------------------------------------------------------------------------------------------


def _plots(objs: SimpleNamespace) -> dict[str, Any]:
    c = objs.comparison
    firm = c.left(0).iloc[0]
    return {
        "points": lambda ax: plot_points_intervals(objs.suggestion, "growth", ax=ax),
        "metrics": lambda ax: plot_metrics(
            objs.suggestion, {"oracle": objs.oracle}, ax=ax, fit=objs.fit
        ),
        "transitions": lambda ax: plot_transitions(c, ax=ax),
        "shap": lambda ax: plot_shap(objs.shap, ax=ax, framework=objs.fw),
        "waterfall": lambda ax: plot_waterfall(
            c, firm["enterprise_id"], int(firm["year"]), ax=ax, lang="en"
        ),
        "seats": lambda ax: plot_seat_shares(c, "industry", ax=ax),
        "ranks": lambda ax: plot_rank_intervals(objs.sensitivity, ax=ax),
    }


@pytest.mark.parametrize(
    "name", ["points", "metrics", "transitions", "shap", "waterfall", "seats", "ranks"]
)
def test_plot_functions_return_figures_and_accept_ax(objs: SimpleNamespace, name: str) -> None:
    draw = _plots(objs)[name]
    fig = draw(None)
    assert isinstance(fig, Figure) and len(fig.axes) >= 1
    own = Figure(figsize=(6, 4))
    ax = own.add_subplot()
    assert draw(ax) is own
    assert ax.has_data() or ax.images
    for f in (fig, own):
        assert style.to_png(f)[:4] == b"\x89PNG"


def test_points_grid_has_one_panel_per_stage(objs: SimpleNamespace) -> None:
    fig = plot_points_grid(objs.suggestion, lang="en")
    assert [a.get_title(loc="left") for a in fig.axes] == [s.name.en for s in objs.fw.stages]


def test_plot_errors_name_what_to_do(objs: SimpleNamespace) -> None:
    with pytest.raises(
        ValueError, match="no stage 'nope' in the suggestion; stages are seed, startup"
    ):
        plot_points_intervals(objs.suggestion, "nope")
    with pytest.raises(ValueError, match="firm 'nobody' in year 2020 is not in the comparison"):
        plot_waterfall(objs.comparison, "nobody", 2020)
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_metrics(None)


def test_plots_are_deterministic(objs: SimpleNamespace) -> None:
    one = style.to_png(plot_transitions(objs.comparison))
    two = style.to_png(plot_transitions(objs.comparison))
    assert one == two
    assert b"Software" not in one and b"matplotlib" not in one.lower()


# --- the CJK font -------------------------------------------------------------------------------------


def test_cjk_font_comes_from_mplfonts() -> None:
    path = style.cjk_font_path()
    assert "mplfonts" in path.parts and path.suffix in (".otf", ".ttf")
    assert style.cjk_font_family() == "Noto Sans CJK SC"


def test_chinese_title_renders_without_missing_glyphs() -> None:
    with style.context():
        fig = Figure(figsize=(4, 2))
        ax = fig.add_subplot()
        ax.set_title("企业创新积分制 研发费用占营业收入比例 R&D / revenue −5 → ≥ 3%")
        ax.set_yticks([0, 1], ["成长期 growth", "种子期 seed"])
        ax.plot([-1, 1], [0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = style.to_png(fig)  # drawn outside the context: the fonts stick to the artists
    assert not [w for w in caught if "Glyph" in str(w.message) or "findfont" in str(w.message)], (
        caught
    )
    assert png[:4] == b"\x89PNG"
    assert ax.title.get_fontname() == "Noto Sans CJK SC"


# --- truth of labels (issue 11) -------------------------------------------------------------------


def test_marks_come_from_the_engine_and_pins_are_never_confident(objs: SimpleNamespace) -> None:
    cal = objs.inputs.calibration
    quiet = dataclasses.replace(cal, warnings=())  # no stage flagged as noise
    page = render_html(dataclasses.replace(objs.inputs, calibration=quiet), lang="en")
    section = _visible(page[page.index('id="points"') : page.index('id="calibration"')])
    points = section[section.index("Verdict") :]  # the tables, after the note on marks
    assert points.count("★ confident") == 1  # the one point the engine called confident
    assert points.count("pinned (max-change cap)") == 1  # confident: true, but pinned wins
    assert points.count("pinned (bound)") == 1
    noisy = _visible(render_html(objs.inputs, lang="en"))
    noisy = noisy[noisy.index("2. Official and suggested points") :]
    assert "★" not in noisy[noisy.index("Verdict") :]  # every stage here is "mostly noise"
    assert "no point there is marked confident" in noisy
    no_marks = dataclasses.replace(
        cal, points=tuple(dataclasses.replace(p, confident=None, pinned=None) for p in cal.points)
    )
    page = render_html(dataclasses.replace(objs.inputs, calibration=no_marks), lang="en")
    assert "★" not in _visible(page) and "no confidence verdicts" in page


def test_noise_stages_are_read_from_the_warnings() -> None:
    from calibrate.report.calibration import noise_stages

    stages = ("seed", "growth", "mature")
    warns = ["stage growth: 8 training firm-years ... the suggested points there are mostly noise"]
    assert noise_stages(warns, stages) == {"growth"}
    assert noise_stages(["all stages: 3 ... mostly noise; pool"], stages) == set(stages)
    assert noise_stages(["something else"], stages) == set()


def test_in_sample_metrics_are_never_called_held_out(objs: SimpleNamespace) -> None:
    cal = objs.inputs.calibration
    leaky = dataclasses.replace(cal, held_out=dataclasses.replace(cal.held_out, years=(2021, 2022)))
    page = _visible(render_html(dataclasses.replace(objs.inputs, calibration=leaky), lang="en"))
    assert "years 2021–2022 (of which 2021 were used for fitting: in-sample)" in page
    assert "held-out years 2021" not in page
    # without a calibration block, comparison metrics are labelled unsplit
    plain = compare(
        objs.fw,
        objs.fw.reweight({"rd_intensity": 2.0}),
        objs.data,
        events=objs.panel.events,
        target="hte_certified",
    )
    text = _visible(render_html(plain, lang="zh"))
    assert "全部年份 2019–2023 年（未区分训练与检验）" in text or "未区分训练与检验" in text
    assert "样本外" not in text


def test_standalone_report_reads_the_block_and_the_stored_draws(
    objs: SimpleNamespace, tmp_path: Path
) -> None:
    """calibrate report --candidate SUGGESTED.yaml: same sections as the demo, draws from the file."""
    from calibrate.cli import main

    cand = objs.inputs.candidate
    cand.save(tmp_path / "suggested.yaml")
    objs.suggestion.bootstrap_draws.to_csv(tmp_path / "suggested.draws.csv", index=False)
    objs.data.to_csv(tmp_path / "data.csv", index=False)
    objs.panel.events.to_csv(tmp_path / "events.csv", index=False)
    out = tmp_path / "out" / "report.html"
    code = main(
        [
            "report",
            "--base",
            "longwan-2022",
            "--candidate",
            str(tmp_path / "suggested.yaml"),
            "--data",
            str(tmp_path / "data.csv"),
            "--events",
            str(tmp_path / "events.csv"),
            "--target",
            "hte_certified",
            "--out",
            str(out),
            "--lang",
            "en",
        ]
    )
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert _omitted(page) == set()
    text = _visible(page)
    assert "stored bootstrap draws" in text and "random perturbations" not in text
    assert "Performance on held-out years 2022 (not used for fitting)" in text
    assert "Cumulative gain per edit" in page
    (tmp_path / "suggested.draws.csv").unlink()
    assert (
        main(
            [
                "report",
                "--base",
                "longwan-2022",
                "--candidate",
                str(tmp_path / "suggested.yaml"),
                "--data",
                str(tmp_path / "data.csv"),
                "--out",
                str(out),
            ]
        )
        == 2
    )


# --- tables beside the HTML -------------------------------------------------------------------------


def test_xlsx_beside_the_html_has_full_lists_in_chinese(
    built: dict[str, Path], objs: SimpleNamespace, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from calibrate.report._data import year_comparison

    book = built["zh"].with_suffix(".xlsx")
    assert book.is_file()
    wb = load_workbook(book, read_only=False)
    assert wb.sheetnames == ["企业分值", "榜单名单", "进出榜企业", "建议分值", "榜单不确定企业"]
    year = int(objs.data["year"].max())
    c = year_comparison(objs.comparison, year)
    movers = wb["进出榜企业"]
    assert movers.freeze_panes == "A2"
    assert movers.max_row - 1 == len(c.movers)  # every entrant and leaver, not the first 8
    firms = wb["企业分值"]
    header = [cell.value for cell in firms[1]]
    assert header[:3] == ["企业代码", "年份", "园区"]
    assert firms.max_row - 1 == c.n_firms
    industries = {row[header.index("行业")] for row in firms.iter_rows(min_row=2, values_only=True)}
    assert "C39 计算机、通信和其他电子设备制造业" in industries
    assert all(" " in str(v) for v in industries)  # every code has its name
    assert {row[0] for row in firms.iter_rows(min_row=2, values_only=True)} == set(
        c.firms["enterprise_id"]
    )
    again = build_report(objs.inputs, tmp_path / "report.html", lang="zh")
    assert again.tables == (tmp_path / "report.xlsx",)
    assert again.tables[0].read_bytes() == book.read_bytes()  # same inputs, same bytes
    en = load_workbook(built["en"].with_suffix(".xlsx"), read_only=True)
    assert en.sheetnames[0] == "Firm points"


def test_csv_helper_writes_a_bom(tmp_path: Path) -> None:
    import pandas as pd

    from calibrate.report.tables import to_csv

    path = to_csv(pd.DataFrame({"阶段": ["种子期"]}), tmp_path / "t.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert path.read_text(encoding="utf-8-sig").splitlines()[1] == "种子期"


# --- layout of plots ----------------------------------------------------------------------------


def _layout_plots(objs: SimpleNamespace, lang: str) -> dict[str, Figure]:
    from calibrate.report.plots import plot_edit_path

    c = objs.comparison
    firm = c.left(0).iloc[0]
    return {
        "points grid": plot_points_grid(objs.suggestion, lang=lang),
        "metrics": plot_metrics(objs.suggestion, {"oracle": objs.oracle}, lang=lang),
        "transitions": plot_transitions(c, lang=lang),
        "shap": plot_shap(objs.shap, framework=objs.fw, lang=lang),
        "waterfall": plot_waterfall(c, firm["enterprise_id"], int(firm["year"]), lang=lang),
        "seats by stage": plot_seat_shares(c, "stage", lang=lang),
        "seats by industry": plot_seat_shares(c, "industry", lang=lang),
        "ranks": plot_rank_intervals(objs.sensitivity, lang=lang),
        "edit path": plot_edit_path(objs.inputs.calibration.edits, "auc_within_group", lang=lang),
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_label_overlaps_and_legends_outside_the_data(objs: SimpleNamespace, lang: str) -> None:
    for name, fig in _layout_plots(objs, lang).items():
        assert style.overlapping_texts(fig) == [], name
        assert not style.legend_overlaps_data(fig), name


def test_overlap_check_sees_an_overlap() -> None:
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "企业创新积分")
    ax.text(0.52, 0.5, "overlapping label")
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend(loc="center")
    style.use_fonts(fig)
    assert ("企业创新积分", "overlapping label") in style.overlapping_texts(fig)
    assert style.legend_overlaps_data(fig)


def test_a_bad_calibration_block_names_the_yaml_path(objs: SimpleNamespace) -> None:
    from calibrate.exceptions import CalibrateError
    from calibrate.report.calibration import CalibrationError

    block = dict(objs.inputs.candidate.calibration)
    block["points"] = [dict(p) for p in block["points"]]
    block["points"][3]["pinned"] = "maybe"
    bad = dataclasses.replace(objs.inputs.candidate, calibration=block)
    with pytest.raises(CalibrationError) as err:
        read_calibration(bad, "out/suggested.yaml", draws=objs.suggestion.bootstrap_draws)
    assert str(err.value) == (
        "out/suggested.yaml: calibration.points[3].pinned: 'maybe'; use null, bound or max_change"
    )
    assert isinstance(err.value, CalibrateError)  # the command line exits with code 2


def test_constraints_are_described_in_the_report_language() -> None:
    from calibrate.report.context import _constraints_text

    c = {"granularity": 1, "max_change": {"absolute": 10}, "groups": {"tech": {"min": 40}}}
    zh = _constraints_text(c, Translator("zh"))
    assert zh == "取整粒度：1；最大调整幅度：绝对值 10；类别分值约束：tech （不低于 40）"
    assert not re.search(r"max_change|absolute|granularity|min\b", zh)
    en = _constraints_text(c, Translator("en"))
    assert en == "granularity: 1; max change: absolute 10; group totals: tech (at least 40)"


def test_next_list_path_counts_ranked_firms_and_names_ineligible_ones() -> None:
    """The points path of the report: unranked (ineligible) firms neither compete for seats nor
    get a path, and the cut-off is the total of the last firm the scorer put on the list."""
    import calibrate.synth as synth
    from calibrate.report._data import nearest_path as points_path

    config = synth.SynthConfig(enterprises=800, parks=2, years=(2020, 2023), seed=1)
    fw = dataclasses.replace(load_framework("longwan-2022-text"), min_seats=1)
    res = score(fw, synth.generate(config, progress=False).enterprises)
    frame = res.frame
    outside = np.flatnonzero(~res.ranked & ~frame["vetoed"].to_numpy(dtype=bool))
    assert outside.size
    assert points_path(res, int(outside[0])).status == "ineligible"
    assert Translator("zh")("state_ineligible") == "不符合参评条件"
    codes = frame["tier"].cat.codes.to_numpy()
    total = frame["total"].to_numpy(dtype=np.float64)
    checked = 0
    for row in np.flatnonzero(res.ranked & (codes == 1))[:40]:  # on the second list
        path = points_path(res, int(row))
        members = (res.group_code == res.group_code[row]) & (codes == 0)
        if not members.any():
            assert path.status == "no_seat"
            continue
        assert path.cutoff == total[members].min(), (row, path)
        checked += 1
    assert checked > 10
