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
from calibrate.report.html import _TITLE_KEYS
from calibrate.report.i18n import MESSAGES, Translator
from calibrate.report.plots import plot_points_grid
from calibrate.scoring import score
from calibrate.sensitivity import FromIntervals, rank_uncertainty
from calibrate.suggest import suggest
from calibrate.synth import SynthConfig, generate

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
LINKS = re.compile(r'\b(?:src|href)\s*=\s*"([^"]*)"', re.IGNORECASE)


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
    inputs = ReportInputs(
        base=fw,
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
    assert "摘要" in zh and "Summary" not in zh
    assert "Summary" in en and "摘要" not in en
    default = render_html(ReportInputs(base=objs.fw))
    assert '<html lang="zh-CN">' in default and "<h2>1. 摘要</h2>" in default


def test_images_are_embedded_pngs(built: dict[str, Path]) -> None:
    page = _text(built["zh"])
    images = DATA_URI.findall(page)
    # points (1), metrics, SHAP, transitions, seat shares × 3, rank intervals, 4 firm cards
    assert len(images) == 12
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
    assert (
        "<link" not in page
        and "@import" not in page
        and "url(" not in page
        and "@font-face" not in page
    )
    assert "<script" not in page


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
    summary = text[text.index("1. Summary") : text.index("2. Data and method")]
    s = objs.suggestion
    assert "national high-tech enterprise certification" in summary
    assert f"changes {len(s.diff())} of {len(s.points)} indicator × stage points" in summary
    assert "AUC goes from" in summary and "oracle" in summary
    assert "bootstrap samples of firms" in summary and "Few bootstrap samples (5)" in summary
    assert f"{int(objs.comparison.overall['entered'])} firms enter a list" in summary


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
    section = page[page.index('id="metrics"') : page.index('id="drivers"')]
    for column in (
        "official points",
        "suggested points",
        "oracle",
        "model MonotoneGBM (pooled held-out years)",
    ):
        assert f'<th class="num">{column}</th>' in section, column
    assert f"{objs.oracle['auc_within_group']:.3f}".rstrip("0") in section
    assert "The oracle is the true probability" in section


def test_what_if_lists_entrants_leavers_subsidies_and_seats(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    text = _visible(_text(built["en"]))
    whatif = text[text.index("6. What-if") : text.index("7. Uncertainty")]
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
        "Seat shares by park",
        "Seat shares by industry",
        "Seat shares by stage",
    ):
        assert heading in whatif
    fairness = text[text.index("8. Fairness notes") : text.index("9. Firm cards")]
    assert "By park" in fairness and "By industry" in fairness and "By stage" in fairness


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
    assert _omitted(page) == {"drivers", "what-if", "uncertainty", "cards"}
    assert "Section omitted: no framework comparison (Comparison) was given." in page
    # fairness keeps the gaming check, which needs the two frameworks only
    fairness = _visible(page[page.index('id="fairness"') : page.index('id="cards"')])
    assert "Gaming check" in fairness and "Section omitted" in fairness
    assert "Section omitted: no SHAP result (ShapResult) was given." in page
    assert len(DATA_URI.findall(page)) == 2  # points, metrics
    for sid in SECTIONS:
        assert f'id="{sid}"' in page


def test_gaming_check_names_cheaper_manipulable_indicators(
    built: dict[str, Path], objs: SimpleNamespace
) -> None:
    from calibrate.explain import compare_gaming

    text = _visible(_text(built["en"]))
    gaming = text[text.index("Gaming check") : text.index("9. Firm cards")]
    g = compare_gaming(objs.fw, objs.suggestion.framework, objs.data)
    paper = g.cheaper(manipulable=True)
    assert f"{len(g.cheaper())} indicator × stage cells earn more points per unit" in gaming
    first = paper.iloc[0]
    assert f"{first['name_en']} {first['name_zh']}" in gaming


def test_no_bootstrap_no_intervals(objs: SimpleNamespace) -> None:
    s = objs.suggestion
    bare = dataclasses.replace(
        s, n_bootstrap=0, points=s.points.assign(low=float("nan"), high=float("nan"))
    )
    page = render_html(bare, lang="en")
    assert "No bootstrap: the suggested points have no intervals." in page
    assert "★" not in _visible(page).split("★ marks")[1]
    assert len(DATA_URI.findall(page)) == 2


def test_frameworks_without_lists(objs: SimpleNamespace) -> None:
    plain = dataclasses.replace(objs.fw, tiers=(), subsidies=())
    other = plain.reweight({"rd_intensity": 2.0})
    rows = objs.data[objs.data["year"] == 2023].reset_index(drop=True)
    c = compare(plain, other, rows)
    page = render_html(c, lang="en")
    assert _omitted(page) == {"points", "metrics", "drivers", "uncertainty", "cards"}
    assert "no firm to show" in page
    assert "Neither framework publishes lists: there are no seats to compare." in page


def test_comparison_alone(objs: SimpleNamespace) -> None:
    page = render_html(objs.comparison, lang="zh")
    assert _omitted(page) == {"points", "drivers", "uncertainty"}
    assert "本节略去：未提供建议结果（Suggestion）。" in page
    text = _visible(page)
    assert "基准框架" in text and "候选框架" in text  # comparison's own outcome metrics
    assert "框架对比中的指标在两套框架都参与排名" in text


def test_base_framework_alone(objs: SimpleNamespace) -> None:
    page = render_html(ReportInputs(base=objs.fw), lang="en")
    assert _omitted(page) == set(SECTIONS) - {"summary", "data-method", "limitations"}
    assert "Section omitted: no held-out metrics were given" in page
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
