"""Every sentence and label of the report, in Chinese and English, in one table.

Text is looked up by key through a :class:`Translator` for the report's language; nothing is
written twice in the code. Names of frameworks, stages, tiers and indicators come from the
framework files (each has a Chinese and an English name) and are shown in both languages.
"""

from __future__ import annotations

import math
import re
from typing import Any

from calibrate.framework.model import Name

__all__ = ["LANGS", "MESSAGES", "Translator", "default_lang"]

#: Report languages: Chinese (default) and English.
LANGS = ("zh", "en")

MSG_LANG = "lang must be one of {langs}; got {lang!r}"

#: key → (Chinese, English). ``{name}`` placeholders are filled by :meth:`Translator.__call__`.
MESSAGES: dict[str, tuple[str, str]] = {
    # --- document ---------------------------------------------------------------------------
    "html_lang": ("zh-CN", "en"),
    "title_default": ("企业创新积分制评估报告", "Innovation points system: evaluation report"),
    "subtitle": (
        "面向评审专家的可解释性报告 · 由 calibrate {version} 生成",
        "Explainability report for review panels · made by calibrate {version}",
    ),
    "toc": ("目录", "Contents"),
    "synthetic_banner": (
        "合成数据：本报告的数据是模拟生成的，结论只用于演示方法，不代表任何真实园区或企业。",
        "Synthetic data: the data in this report are simulated; the findings "
        "demonstrate the method and describe no real park or enterprise.",
    ),
    "omitted": ("本节略去：{why}", "Section omitted: {why}"),
    "why_no_suggestion": (
        "未提供建议结果（Suggestion）。",
        "no suggestion (Suggestion) was given.",
    ),
    "why_no_comparison": (
        "未提供框架对比结果（Comparison）。",
        "no framework comparison (Comparison) was given.",
    ),
    "why_no_metrics": (
        "未提供留出年份指标（需要 Suggestion、带标签的 Comparison、FitResult 或额外指标）。",
        "no held-out metrics were given (a Suggestion, a Comparison with labels, a "
        "FitResult or extra metrics are needed).",
    ),
    "why_no_shap": ("未提供 SHAP 结果（ShapResult）。", "no SHAP result (ShapResult) was given."),
    "why_no_sensitivity": (
        "未提供排名不确定性结果（RankUncertainty）。",
        "no rank-uncertainty result (RankUncertainty) was given.",
    ),
    "why_no_scores": (
        "未提供两套框架的评分（需要 Comparison，或 base_scores 与 candidate_scores）。",
        "no scores under both frameworks were given (a Comparison, or base_scores "
        "and candidate_scores, are needed).",
    ),
    "why_no_firms": (
        "没有可展示的企业（没有企业进入或离开榜单，也未指定企业）。",
        "no firm to show (no firm entered or left a list and none was named).",
    ),
    # --- section headings -------------------------------------------------------------------
    "sec_overview": ("概览", "Overview"),
    "sec_data": ("数据与方法", "Data and method"),
    "sec_points": ("现行分值与建议分值", "Official and suggested points"),
    "sec_calibration": ("标定依据：指标与年份", "Calibration evidence: metrics and years"),
    "sec_drivers": ("全局驱动因素", "Global drivers"),
    "sec_uncertainty": ("不确定性", "Uncertainty"),
    "sec_edits": ("逐步调整路径", "Edit path"),
    "sec_compare": ("情景对比：谁进榜、谁出榜", "What-if: who enters and who leaves"),
    "sec_subgroups": ("分园区、行业与阶段的席位", "Seats by park, industry and stage"),
    "sec_firms": ("企业示例", "Example firms"),
    "sec_warnings": ("警示", "Warnings"),
    "sec_provenance": ("来源与局限", "Provenance and limitations"),
    # --- decision memo ------------------------------------------------------------------------
    "memo_title": ("决策备忘：积分办法方案对比", "Decision memo: points frameworks side by side"),
    "memo_intro": (
        "{n} 套方案在 {year} 年的同一批企业上比较，第一列为参照方案；名单进出、补贴与分值变化均相对于参照方案。",
        "{n} frameworks compared on the same firms of {year}; the first column is the reference, "
        "and list moves, subsidies and point changes are relative to it.",
    ),
    "memo_row_metrics": ("预测表现（参照 → 本方案）", "Performance (reference → this)"),
    "memo_row_lists": ("进榜 / 出榜企业", "Firms entering / leaving"),
    "memo_row_subsidy": ("补贴变动", "Subsidy moved"),
    "memo_row_changes": ("变化最大的三项分值", "Three largest point changes"),
    "memo_row_warnings": ("警示", "Warnings"),
    "memo_reference": ("（参照方案）", "(reference)"),
    "memo_no_metrics": (
        "无：没有标定记录，也未提供事件数据。",
        "none: no calibration block and no events given.",
    ),
    "memo_list": ("{list}：进 {entered}，出 {left}", "{list}: +{entered} in, −{left} out"),
    "memo_subsidy": (
        "新获 {gained} 家，失去 {lost} 家，净变化 {net} 万元",
        "{gained} gain, {lost} lose; net {net} 万元",
    ),
    "memo_noise": (
        "{stages}阶段的建议分值大多是噪声（事件太少）",
        "suggested points of {stages} are mostly noise (too few events)",
    ),
    "memo_more_warnings": (
        "共 {n} 条警示，详见完整报告",
        "{n} warnings in all; see the full report",
    ),
    # --- truth labels -------------------------------------------------------------------------
    "basis_held_out": (
        "检验年份 {years}（未用于求解分值，样本外）",
        "held-out years {years} (not used for fitting)",
    ),
    "basis_in_sample": (
        "年份 {years}（其中 {train}用于求解分值，样本内）",
        "years {years} (of which {train} were used for fitting: in-sample)",
    ),
    "basis_unsplit": (
        "全部年份 {years}（未区分训练与检验）",
        "all years {years}, in-sample (no training / test split known)",
    ),
    "h_metrics": ("预测表现：{basis}", "Performance on {basis}"),
    "sum_not_held_out": (
        "注意：所谓“检验”年份中的 {years}也用于求解分值，这些指标属于样本内结果。",
        "Note: the “test” years {years} were also used for fitting; these metrics are in-sample.",
    ),
    "year_under_review": (
        "以下名单、人数与席位均为 {year} 年的数据，不跨年份合计。",
        "Lists, counts and seats below are for {year} only, not pooled across years.",
    ),
    "why_no_points": (
        "候选框架没有标定记录（calibration），也未提供建议结果。",
        "the candidate has no calibration block and no suggestion was given.",
    ),
    "why_no_calibration": (
        "候选框架没有标定记录（calibration），也未提供带事件的对比、模型或 SHAP 结果。",
        "the candidate has no calibration block, and no comparison with events, model or SHAP "
        "result was given.",
    ),
    "why_no_held_out": (
        "标定记录中没有检验年份指标（held_out）。",
        "the calibration block has no held-out metrics (held_out).",
    ),
    "why_no_edits": (
        "标定记录中没有调整路径（edits）。",
        "the calibration block has no edit path (edits).",
    ),
    "why_no_warnings": ("没有需要提示的问题。", "nothing to warn about."),
    "points_marks_note": (
        "“★ 有把握”“区间较宽”由建议引擎根据自助抽样判断；“受约束固定”表示区间被上下限或最大调整幅度卡住，不能据此判断把握程度。",
        "“★ confident” and “unsure” are the suggestion engine's verdicts from the bootstrap; "
        "“pinned” means the interval sits at a bound or at the max-change cap and says nothing "
        "about confidence.",
    ),
    "points_no_marks_note": (
        "建议引擎没有给出把握程度判断，因此不标注。",
        "The suggestion engine gave no confidence verdicts, so no marks are shown.",
    ),
    "points_noise_note": (
        "警示指出 {stages}阶段的建议分值大多是噪声，这些阶段不标“有把握”。",
        "The warnings call the suggested points of {stages} mostly noise; no point there is "
        "marked confident.",
    ),
    "col_mark": ("判断", "Verdict"),
    "mark_confident": ("★ 有把握", "★ confident"),
    "mark_unsure": ("区间较宽", "unsure"),
    "mark_noise": ("噪声阶段，不作判断", "noisy stage, no verdict"),
    "mark_pinned_bound": ("受约束固定（上下限）", "pinned (bound)"),
    "mark_pinned_max_change": ("受约束固定（最大调整幅度）", "pinned (max-change cap)"),
    "h_directions": ("方向检验", "Direction checks"),
    "directions_intro": (
        "检验每个指标的计分方向是否与结果一致：单变量关联以 AUC−0.5 表示（正为同向），条件关联控制其他指标后计算，同号概率来自自助抽样。",
        "Whether each indicator's scoring direction agrees with the outcome: the marginal "
        "association is AUC − 0.5 (positive = same direction), the conditional one controls for "
        "the other indicators, the sign probability comes from the bootstrap.",
    ),
    "col_rule_direction": ("计分方向", "Rule direction"),
    "col_marginal": ("单变量关联", "Marginal"),
    "col_conditional": ("条件关联", "Conditional"),
    "col_sign_probability": ("同号概率", "Sign probability"),
    "col_verdict": ("结论", "Verdict"),
    "col_action": ("处理", "Action"),
    "dir_rule_up": ("越高越得分", "higher scores more"),
    "dir_rule_down": ("越低越得分", "lower scores more"),
    "verdict_agrees": ("一致", "agrees"),
    "verdict_reversed": ("相反", "reversed"),
    "verdict_unclear": ("不明确", "unclear"),
    "action_reversed": ("已反转", "reversed"),
    "action_dropped": ("已删除", "dropped"),
    "action_kept": ("保留", "kept"),
    "action_reported": ("仅报告", "reported"),
    "edits_intro": (
        "建议引擎按顺序给出的调整，每一步都有训练年份和检验年份上的 {metric}、自助抽样中被选中的比例，以及名单变动的企业数。第 0 步为起始框架。",
        "The suggestion engine's edits in order, each with {metric} on the training and the "
        "held-out years, the share of bootstrap samples that chose it and the number of firms "
        "whose list changes. Step 0 is the starting framework.",
    ),
    "plot_edits_title": ("每一步调整的累计增益", "Cumulative gain per edit"),
    "plot_edits_x": ("调整步骤", "Edit step"),
    "plot_edits_y": ("{metric} 相对起始框架的变化", "Change in {metric} from the start"),
    "legend_train": ("训练年份", "training years"),
    "legend_held_out": ("检验年份", "held-out years"),
    "move_points": ("调整分值", "points"),
    "move_direction": ("反转方向", "direction"),
    "move_shape": ("调整档位", "shape"),
    "move_add": ("新增指标", "add"),
    "move_drop": ("删除指标", "drop"),
    "only_english": ("（仅有英文原文）", " (only in English)"),
    "only_other_lang": ("（仅有英文说明）", " (only a Chinese description exists)"),
    "col_step": ("步骤", "Step"),
    "col_move": ("类型", "Move"),
    "col_edit": ("调整内容", "Edit"),
    "col_train_metric": ("训练年份 {metric}", "{metric}, training years"),
    "col_held_out_metric": ("检验年份 {metric}", "{metric}, held-out years"),
    "col_chosen_share": ("被选中比例", "Chosen in"),
    "col_firms_changing": ("名单变动企业数", "Firms changing list"),
    "warn_reversed": (
        "以下指标的计分方向与结果相反：{items}。",
        "These indicators score in the direction opposite to the outcome: {items}.",
    ),
    "unc_from_draws": (
        "名次区间来自建议引擎保存的自助抽样分值（数据的不确定性）。",
        "Rank intervals come from the suggestion engine's stored bootstrap draws (uncertainty "
        "from the data).",
    ),
    "unc_from_intervals": (
        "名次区间来自在自助抽样区间内对每个分值独立抽样：反映数据的不确定性，但忽略了分值之间的相关。",
        "Rank intervals come from drawing each point independently within its bootstrap interval: "
        "uncertainty from the data, ignoring how the points move together.",
    ),
    "sampler_FromDraws": ("保存的自助抽样分值", "the stored bootstrap draws"),
    "sampler_FromIntervals": (
        "在自助抽样区间内独立抽样",
        "independent draws within the bootstrap intervals",
    ),
    "sampler_Dirichlet": ("Dirichlet 随机权重", "Dirichlet random weights"),
    "sampler_Jitter": ("随机扰动", "random jitter"),
    "stability_pooled": (
        "本表合计了所有年份（{years}）的企业-年度。",
        "This table pools the firm-years of all years ({years}).",
    ),
    "unc_not_data": (
        "没有保存的自助抽样分值：名次区间来自对分值的随机扰动，只反映排名对权重的敏感程度，不代表数据的不确定性。",
        "No stored bootstrap draws: rank intervals come from random perturbations of the points "
        "and show sensitivity to the weights, not uncertainty from the data.",
    ),
    # --- summary ------------------------------------------------------------------------------
    "sum_tested_suggest": (
        "本报告检验“{base}”的分值能否预测企业在评分后 {horizon} 年内{target}。建议分值用 {train}的数据求得"
        "（目标函数：{objective}），再在求解时未使用的 {test}数据上检验（{n} 个企业-年度，其中 {events} 个发生该事件）。",
        "This report tests whether the points of “{base}” predict {target} within {horizon} year(s) "
        "of scoring. Suggested points were fitted on {train} (objective: {objective}) and checked on "
        "{test}, years the fit never saw ({n} firm-years, {events} with the event).",
    ),
    "sum_tested_compare": (
        "本报告比较“{base}”与“{candidate}”两套积分办法在 {year} 年的 {n} 家企业上的结果：排名是否一致，谁进入、谁离开榜单，补贴与席位如何变化。",
        "This report compares “{base}” with “{candidate}” on the {n} firms of {year}: whether ranks agree, who enters and who leaves the lists, and how subsidies and seats move.",
    ),
    "sum_tested_base": ("本报告说明“{base}”。", "This report describes “{base}”."),
    "sum_changed_points": (
        "建议分值在 {n_cells} 个“指标×阶段”分值中调整了 {n_changed} 个，每个阶段的核心分值总额不变。增加最多的是：{ups}；减少最多的是：{downs}。",
        "The suggestion changes {n_changed} of {n_cells} indicator × stage points; every stage "
        "keeps its core budget. Largest increases: {ups}. Largest decreases: {downs}.",
    ),
    "sum_no_change": ("建议分值与现行分值完全相同。", "The suggested points equal today's points."),
    "sum_changed_lists": (
        "{year} 年：{entered} 家企业进入某一榜单，{left} 家离开；两套办法的排名一致性（Spearman）为 {rho}。{gained} 家企业新获补贴，{lost} 家失去补贴，补贴总额净变化 {net} 万元。",
        "In {year}, {entered} firms enter a list and {left} leave one; rank agreement (Spearman) is {rho}. {gained} firms gain a subsidy and {lost} lose one; the subsidy total changes by {net} 万元 (10,000 yuan).",
    ),
    "sum_metrics": (
        "在{basis}上，{auc} 从 {auc0} 变为 {auc1}（{verdict}），前 10% 企业中发生该事件的比例从 {p0} 变为 {p1}。",
        "On {basis}, {auc} goes from {auc0} to {auc1} ({verdict}), and the event rate among the top 10 % goes from {p0} to {p1}.",
    ),
    "sum_oracle": (
        "作为参照，真实概率（oracle）的 AUC 为 {auc}，这是任何评分能达到的上限。",
        "For reference, the true probability (oracle) reaches AUC {auc}: no score can do better.",
    ),
    "verdict_better": ("有所提升", "better"),
    "verdict_worse": ("有所下降", "worse"),
    "verdict_same": ("基本不变", "about the same"),
    "sum_bootstrap": (
        "对企业做了 {n_boot} 次自助抽样：建议引擎判断 {k_sure} 个调整有把握，{k_unsure} 个区间较宽（不能排除“不变”），{k_pinned} 个受约束固定（区间被上下限或最大调整幅度卡住）。",
        "Over {n_boot} bootstrap samples of firms the suggestion engine calls {k_sure} changes confident and {k_unsure} unsure (no change cannot be ruled out); {k_pinned} are pinned at a bound or at the max-change cap.",
    ),
    "sum_few_boot": (
        "自助抽样次数较少（{n_boot} 次），区间只是粗略参考。",
        "Few bootstrap samples ({n_boot}): the intervals are rough.",
    ),
    "sum_no_marks": (
        "做了 {n_boot} 次自助抽样，但建议引擎没有给出把握程度判断，报告不作标注。",
        "{n_boot} bootstrap samples were drawn, but the suggestion engine gave no confidence "
        "verdicts, so the report marks none.",
    ),
    "sum_no_boot": (
        "未做自助抽样，建议分值没有区间。",
        "No bootstrap: the suggested points have no intervals.",
    ),
    "sum_uncertain": (
        "{year} 年，在 {draws} 次分值抽样下，{k} 家企业的榜单归属不确定（最可能的结果概率低于 {threshold}）。",
        "In {year}, across {draws} draws of the points, {k} firms have an uncertain list (their most likely outcome has probability below {threshold}).",
    ),
    # --- data and method -----------------------------------------------------------------------
    "k_base": ("基准框架", "Base framework"),
    "k_candidate": ("候选框架", "Candidate framework"),
    "k_data_fp": ("数据指纹", "Data fingerprint"),
    "k_data": ("数据", "Data"),
    "v_data": (
        "{rows} 个企业-年度，{firms} 家企业，{years}，{parks} 个园区",
        "{rows} firm-years, {firms} firms, {years}, {parks} park(s)",
    ),
    "k_target": ("目标事件", "Target event"),
    "k_direction": ("方向", "Direction"),
    "v_direction_higher": (
        "高分企业应更可能发生该事件",
        "high scorers should be more likely to have the event",
    ),
    "v_direction_lower": (
        "高分企业应更不可能发生该事件",
        "high scorers should be less likely to have the event",
    ),
    "k_horizon": ("时间窗", "Horizon"),
    "v_horizon": ("评分后 {h} 年内", "within {h} year(s) after the data year"),
    "k_train": ("训练年份", "Training years"),
    "k_test": ("留出检验年份", "Held-out years"),
    "k_objective": ("目标函数", "Objective"),
    "k_constraints": ("约束", "Constraints"),
    "k_bootstrap": ("自助抽样", "Bootstrap"),
    "v_bootstrap": (
        "按企业抽样 {n} 次，区间为第 5 至第 95 百分位，随机种子 {seed}",
        "{n} samples of firms, 5th–95th percentile interval, seed {seed}",
    ),
    "k_labels": ("标签统计", "Labels"),
    "k_compared": ("对比范围", "Compared"),
    "v_compared": (
        "{n} 个企业-年度在两套框架下评分",
        "{n} firm-years scored under both frameworks",
    ),
    "v_framework": (
        "{name}（{id}，版本 {version}，指纹 {fp}）",
        "{name} ({id}, version {version}, fingerprint {fp})",
    ),
    "method_suggest": (
        "方法：只重新分配核心指标的分值；加分项、封顶、扣分与否决、阶段划分都保持不变。每个阶段的核心分值总额固定，分值取整。"
        "在训练年份上求解，在之后的留出年份上用真实评分器检验；区间来自对企业（含其全部年份）的自助抽样。",
        "Method: only the core points are re-weighted; bonus items, caps, deductions, vetoes and "
        "stages stay as they are. Each stage keeps its core budget and points stay whole. The "
        "fit uses the training years; the real scorer then checks both tables on the later "
        "held-out years. Intervals come from a bootstrap over firms (all years of a firm together).",
    ),
    "method_compare": (
        "方法：两套框架给同一批企业评分。排名在各自的排名组（园区×阶段×年度）内比较；榜单按位置对应（第一榜对第一榜）。",
        "Method: both frameworks score the same firms. Ranks are compared within each ranking "
        "group (park × stage × year); lists are matched by position (first list to first list).",
    ),
    "ck_granularity": ("取整粒度", "granularity"),
    "ck_bounds": ("分值上下限", "bounds"),
    "ck_max_change": ("最大调整幅度", "max change"),
    "ck_absolute": ("绝对值", "absolute"),
    "ck_relative": ("相对比例", "relative"),
    "ck_groups": ("类别分值约束", "group totals"),
    "ck_min": ("不低于", "at least"),
    "ck_max": ("不高于", "at most"),
    "ck_same_across_stages": ("各阶段分值相同", "same points in every stage"),
    "ck_nonzero": ("分值不得为零的指标", "indicators kept above zero"),
    "sep": ("，", ", "),
    "sep_items": ("；", "; "),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "constraints_none": (
        "仅默认约束（分值非负、取整）",
        "defaults only (points ≥ 0, whole points)",
    ),
    # --- points -------------------------------------------------------------------------------
    "points_intro": (
        "每个阶段一栏：灰色空心点为现行分值，蓝色实心点为建议分值，浅蓝色线段为自助抽样区间（第 5 至第 95 百分位）。",
        "One panel per stage: grey hollow dots are today's points, blue dots the suggested "
        "points, light blue bars the bootstrap interval (5th–95th percentile).",
    ),
    "points_stage": ("阶段：{stage}", "Stage: {stage}"),
    "points_sure_note": (
        "★ 表示区间不包含现行分值。",
        "★ marks an interval that excludes today's points.",
    ),
    "plot_points_title": ("{stage}：现行分值与建议分值", "{stage}: official and suggested points"),
    "plot_points_x": ("分值", "points"),
    "legend_current": ("现行分值", "official"),
    "legend_suggested": ("建议分值", "suggested"),
    "legend_interval": ("自助抽样区间", "bootstrap interval"),
    "col_indicator": ("指标", "Indicator"),
    "col_group": ("类别", "Group"),
    "col_current": ("现行", "Official"),
    "col_suggested": ("建议", "Suggested"),
    "col_interval": ("区间", "Interval"),
    "col_change": ("变化", "Change"),
    # --- metrics ------------------------------------------------------------------------------
    "metrics_intro": (
        "下表比较各方案在留出年份上的表现：AUC 衡量排序能力（0.5 为随机），前 k% 精确率是榜单中发生该事件企业的比例，提升度是它与整体事件率之比。",
        "Each column is one way of ranking firms, evaluated on the held-out years: AUC measures "
        "ordering (0.5 = chance), top-k % precision is the event rate on the list, lift is that "
        "rate over the overall event rate.",
    ),
    "metrics_oracle_note": (
        "oracle 是合成数据生成器中的真实概率，是任何评分能达到的上限，只在合成数据上可得。",
        "The oracle is the true probability in the synthetic generator: the ceiling any score "
        "can reach, available on synthetic data only.",
    ),
    "metrics_by_year": ("按留出年份的 AUC", "AUC by held-out year"),
    "plot_metrics_title": ("留出年份上的表现", "Held-out performance"),
    "col_metric": ("指标", "Metric"),
    "col_year": ("年份", "Year"),
    "m_n": ("企业-年度数", "firm-years"),
    "m_events": ("事件数", "events"),
    "m_base_rate": ("事件率", "event rate"),
    "m_auc_within_group": ("AUC（组内）", "AUC (within group)"),
    "m_auc_pooled": ("AUC（全体合并）", "AUC (pooled)"),
    "m_pr_auc": ("PR-AUC", "PR-AUC"),
    "m_brier": ("Brier 分数", "Brier score"),
    "m_prec_top5": ("前 5% 精确率", "precision, top 5 %"),
    "m_prec_top10": ("前 10% 精确率", "precision, top 10 %"),
    "m_prec_top20": ("前 20% 精确率", "precision, top 20 %"),
    "m_lift_top5": ("前 5% 提升度", "lift, top 5 %"),
    "m_lift_top10": ("前 10% 提升度", "lift, top 10 %"),
    "m_lift_top20": ("前 20% 提升度", "lift, top 20 %"),
    "fw_current": ("现行分值", "official points"),
    "fw_suggested": ("建议分值", "suggested points"),
    "fw_base": ("基准框架", "base"),
    "fw_candidate": ("候选框架", "candidate"),
    "fw_fit": ("模型 {name}（合并留出年份）", "model {name} (pooled held-out years)"),
    "metrics_compare_note": (
        "框架对比中的指标在两套框架都参与排名、且有标签的 {n} 个企业-年度上计算（全部年份）。",
        "Comparison metrics are computed on the {n} labelled firm-years that both frameworks rank "
        "(all years).",
    ),
    # --- drivers ------------------------------------------------------------------------------
    "shap_intro": (
        "SHAP 值把模型对每家企业的预测（对数几率）拆分到各个特征上。条形长度为平均绝对 SHAP 值：越长，该指标对预测的影响越大。",
        "SHAP values split the model's prediction for each firm (in log-odds) among the "
        "features. Bar length is the mean absolute SHAP value: the longer, the more the "
        "indicator moves predictions.",
    ),
    "shap_rows": (
        "基于 {used} 个企业-年度计算（共 {total} 个{sampled}），方法：{backend}，单位：{output}。",
        "Computed on {used} firm-years (of {total}{sampled}); backend: {backend}; units: {output}.",
    ),
    "shap_sampled": ("，按随机种子 {seed} 抽样", ", sampled with seed {seed}"),
    "shap_fit": (
        "模型：{model}；合并留出年份 AUC {auc}。",
        "Model: {model}; pooled held-out AUC {auc}.",
    ),
    "plot_shap_title": ("全局重要性（平均 |SHAP|）", "Global importance (mean |SHAP|)"),
    "plot_shap_x": ("平均 |SHAP|（对数几率）", "mean |SHAP| (log-odds)"),
    "col_rank": ("排名", "Rank"),
    "col_feature": ("特征", "Feature"),
    "col_mean_abs": ("平均 |SHAP|", "Mean |SHAP|"),
    "col_share": ("占比", "Share"),
    "col_mean": ("平均 SHAP（带符号）", "Mean SHAP (signed)"),
    # --- what-if ------------------------------------------------------------------------------
    "whatif_intro": ("基准：{base}；候选：{candidate}。", "Base: {base}; candidate: {candidate}."),
    "h_rank": ("排名一致性", "Rank agreement"),
    "k_spearman": ("Spearman 相关（组内百分位）", "Spearman (within-group percentile)"),
    "k_kendall": ("Kendall tau-b", "Kendall tau-b"),
    "k_mean_move": ("平均名次变动", "Mean rank move"),
    "k_max_move": ("最大名次变动", "Largest rank move"),
    "k_share_moved": ("名次变动的企业比例", "Firms whose rank changed"),
    "k_ranked_both": ("两套框架下均参与排名的企业", "Firms ranked under both"),
    "h_transitions": ("榜单转移矩阵", "Tier transitions"),
    "transitions_intro": (
        "行为基准框架下的榜单，列为候选框架下的榜单；格中为企业数。",
        "Rows: list under the base; columns: list under the candidate; cells: firms.",
    ),
    "plot_transitions_title": ("榜单转移（企业数）", "Tier transitions (firms)"),
    "axis_base": ("基准框架", "base"),
    "axis_candidate": ("候选框架", "candidate"),
    "state_none": ("未上榜", "no list"),
    "state_vetoed": ("一票否决", "vetoed"),
    "state_ineligible": ("不符合参评条件", "ineligible"),
    "h_lists": ("各榜单变化", "Lists"),
    "col_list": ("榜单", "List"),
    "col_firms_base": ("基准人数", "Firms (base)"),
    "col_firms_candidate": ("候选人数", "Firms (candidate)"),
    "col_stayed": ("留榜", "Stayed"),
    "col_entered": ("进榜", "Entered"),
    "col_left": ("出榜", "Left"),
    "col_churn": ("流失率", "Churn"),
    "h_movers": ("进榜与出榜企业及原因", "Entrants and leavers, with reasons"),
    "movers_intro": (
        "方向指企业换到更好（↑）还是更差（↓）的榜单或落榜，所以离开某榜也可能是升入更高的榜。原因是总分变化中贡献最大的指标"
        "（候选分值减基准分值）；余量为企业总分减去该榜单的入榜分数线（进榜看候选框架，出榜看基准框架；≥ 0 表示在线上）。",
        "Direction says whether the firm moves to a better (↑) or a worse (↓) list or off the lists, "
        "so leaving a list can mean moving up to a better one. Reasons are the indicators that "
        "moved the firm's total most (candidate minus base points); the margin is the firm's "
        "total minus the list's cut-off (the candidate's for entrants, the base's for leavers; "
        "≥ 0 = on or above it).",
    ),
    "movers_entered": ("进入“{list}”", "Entered “{list}”"),
    "movers_left": ("离开“{list}”", "Left “{list}”"),
    "movers_shown": ("显示 {shown} / {total} 家。", "Showing {shown} of {total}."),
    "rows_shown": ("显示 {shown} / {total} 行。", "Showing {shown} of {total} rows."),
    "movers_none": ("没有企业进入或离开任何榜单。", "No firm enters or leaves any list."),
    "col_firm": ("企业", "Firm"),
    "col_park": ("园区", "Park"),
    "col_stage": ("阶段", "Stage"),
    "col_direction": ("方向", "Direction"),
    "dir_up": ("↑ 上升", "↑ up"),
    "dir_down": ("↓ 下降", "↓ down"),
    "col_rank_move": ("名次（基准→候选）", "Rank (base → candidate)"),
    "col_total_change": ("总分变化", "Total change"),
    "col_margin": ("余量", "Margin"),
    "col_reasons": ("原因", "Reasons"),
    "driver_bonus_cap": ("加分封顶", "bonus cap"),
    "driver_deduction": ("扣分", "deductions"),
    "h_subsidies": ("补贴变化（万元）", "Subsidies moved (万元)"),
    "subsidies_none": ("两套框架下都没有补贴变化。", "No subsidy changes hands."),
    "col_subsidised_base": ("基准受补贴企业", "Subsidised (base)"),
    "col_subsidised_candidate": ("候选受补贴企业", "Subsidised (candidate)"),
    "col_gained": ("新获补贴", "Gained"),
    "col_lost": ("失去补贴", "Lost"),
    "col_paid_base": ("基准补贴额", "Paid (base)"),
    "col_paid_candidate": ("候选补贴额", "Paid (candidate)"),
    "col_net": ("净变化", "Net change"),
    "total_row": ("合计", "total"),
    "h_seats": ("按{dim}的榜单席位占比", "Seat shares by {dim}"),
    "dim_park": ("园区", "park"),
    "dim_industry": ("行业", "industry"),
    "dim_stage": ("阶段", "stage"),
    "dim_carrier": ("载体", "carrier"),
    "plot_seats_title": ("榜单席位占比：按{dim}", "Share of list seats by {dim}"),
    "plot_seats_x": ("席位占比", "share of seats"),
    "seats_top_note": (
        "只显示席位最多的 {n} 个{dim}（共 {total} 个）。",
        "Showing the {n} {dim} values with most seats (of {total}).",
    ),
    "col_value": ("取值", "Value"),
    "col_seats_base": ("基准席位", "Seats (base)"),
    "col_seats_candidate": ("候选席位", "Seats (candidate)"),
    "col_share_base": ("基准占比", "Share (base)"),
    "col_share_candidate": ("候选占比", "Share (candidate)"),
    "col_share_change": ("占比变化", "Change"),
    # --- uncertainty -------------------------------------------------------------------------
    "unc_intro": (
        "对“{framework}”的分值做 {draws} 次随机抽样（{sampler}），每次重新排名，得到每家企业的名次区间（{level}）和进入各榜单的概率。",
        "The points of “{framework}” were drawn {draws} times ({sampler}) and every firm re-ranked "
        "each time, giving each firm a rank interval ({level}) and the probability of each list.",
    ),
    "unc_level": ("第 {lo} 至第 {hi} 百分位", "{lo}th–{hi}th percentile"),
    "h_stability": ("各榜单的稳定性", "Stability of each list"),
    "col_tier": ("榜单", "List"),
    "col_firms": ("企业数", "Firms"),
    "col_p_keep": ("保持原榜单的平均概率", "Mean probability of keeping it"),
    "col_uncertain": ("不确定企业", "Uncertain firms"),
    "col_share_uncertain": ("不确定比例", "Share uncertain"),
    "h_uncertain": ("榜单归属最不确定的企业", "Firms whose list is least certain"),
    "unc_threshold": (
        "“不确定”指最可能的结果概率低于 {threshold}。共 {k} 家，下表列出最不确定的 {shown} 家。",
        "“Uncertain” means the most likely outcome has probability below {threshold}. "
        "{k} firms; the {shown} least certain are listed.",
    ),
    "col_rank_interval": ("名次区间", "Rank interval"),
    "col_most_likely": ("最可能的榜单", "Most likely list"),
    "col_p_most_likely": ("概率", "Probability"),
    "plot_ranks_title": ("最不确定企业的名次区间", "Rank intervals of the least certain firms"),
    "plot_ranks_x": ("组内名次（1 = 最好）", "rank within group (1 = best)"),
    "legend_rank_now": ("当前名次", "rank today"),
    "legend_rank_median": ("名次中位数", "median rank"),
    "unc_none": ("没有企业的榜单归属不确定。", "No firm's list is uncertain."),
    # --- fairness -----------------------------------------------------------------------------
    "fair_intro": (
        "席位占比描述各群体在榜单上的代表性，而不是企业优劣。占比变化是值得追问的问题，不是偏见的证据。",
        "Seat shares describe representation on the lists, not merit: a shift is a question to "
        "ask, not proof of bias.",
    ),
    "h_seat_fairness": ("谁获得或失去榜单席位", "Who gains or loses list seats"),
    "fair_no_lists": (
        "两套框架都不发布榜单，没有席位可比较。",
        "Neither framework publishes lists: there are no seats to compare.",
    ),
    "h_gaming": ("刷分风险", "Gaming check"),
    "gaming_intro": (
        "每个指标每提高一个单位能多得多少分（来自 calibrate.explain）。候选框架若提高了这一比率，"
        "容易通过材料包装提高的指标（如实用新型专利、软件著作权）就更便宜地“刷分”。",
        "Points earned per unit of each raw value (from calibrate.explain). Where the candidate "
        "raises this rate, indicators that paperwork can move (utility-model patents, software "
        "copyrights …) become cheaper to inflate.",
    ),
    "gaming_none": (
        "候选框架没有让任何指标更容易刷分。",
        "The candidate makes no indicator cheaper to inflate.",
    ),
    "gaming_count": (
        "候选框架下有 {n} 个“指标×阶段”每单位得分更高，其中 {m} 个容易通过材料包装提高：",
        "Under the candidate {n} indicator × stage cells earn more points per unit; {m} of "
        "them can be moved by paperwork:",
    ),
    "col_ratio": ("每单位得分（候选 / 基准）", "Points per unit (candidate / base)"),
    "col_why_manipulable": ("为何容易包装", "Why it can be inflated"),
    "fair_gain": (
        "{who} 的席位占比上升 {pp} 个百分点（{b} → {c} 席）",
        "{who} gains {pp} share points ({b} → {c} seats)",
    ),
    "fair_loss": (
        "{who} 的席位占比下降 {pp} 个百分点（{b} → {c} 席）",
        "{who} loses {pp} share points ({b} → {c} seats)",
    ),
    "fair_dim": ("按{dim}：{items}。", "By {dim}: {items}."),
    "fair_flat": (
        "按{dim}：各{dim}的席位占比变化都不到 {pp} 个百分点。",
        "By {dim}: no {dim} moves by {pp} share points or more.",
    ),
    "fair_sep": ("；", "; "),
    # --- cards --------------------------------------------------------------------------------
    "cards_intro": (
        "每张卡片说明一家企业在两套框架下的分值差异：瀑布图从基准总分出发，逐项加上各指标的分值变化，得到候选总分。",
        "Each card explains one firm: the waterfall starts at the base total, adds the change of "
        "each indicator's points and ends at the candidate total.",
    ),
    "card_title": ("{firm}（{year} 年，{park}，{stage}）", "{firm} ({year}, {park}, {stage})"),
    "card_totals": (
        "总分 {b} → {c}；名次 {rb} → {rc}；榜单 {tb} → {tc}；补贴 {sb} → {sc} 万元",
        "Total {b} → {c}; rank {rb} → {rc}; list {tb} → {tc}; subsidy {sb} → {sc} 万元",
    ),
    "card_not_found": ("未找到企业 {firm}（{year} 年）。", "Firm {firm} ({year}) was not found."),
    "card_points_table": (
        "只列出分值有变化的项，按变化大小排序；另有 {n} 个指标分值不变。",
        "Only the lines whose points change, largest first; {n} other indicators keep their points.",
    ),
    "col_pts_base": ("基准分值", "Base points"),
    "col_pts_candidate": ("候选分值", "Candidate points"),
    "h_path": (
        "离下一个榜单最近的路径（候选框架）",
        "Nearest path to the next list (candidate framework)",
    ),
    "path_top": (
        "该企业已在最高榜单“{list}”上。",
        "The firm is already on the top list, “{list}”.",
    ),
    "path_vetoed": ("该企业被一票否决，不参与排名。", "The firm is vetoed and not ranked."),
    "path_no_seat": (
        "该企业所在排名组中“{list}”没有席位。",
        "“{list}” has no seat in the firm's ranking group.",
    ),
    "path_gap": (
        "进入“{list}”的分数线为 {cutoff} 分，该企业还差 {gap} 分。按可提升空间从大到小，最少需要提升以下指标：",
        "The cut-off of “{list}” is {cutoff}; the firm is {gap} points short. Taking the "
        "indicators with most room first, the fewest to raise are:",
    ),
    "path_gap_value": (
        "进入“{list}”的分数线为 {cutoff} 分，该企业还差 {gap} 分。只改变一个指标（其他指标不变）时，该指标需要达到的数值：",
        "The cut-off of “{list}” is {cutoff}; the firm is {gap} points short. Changing one "
        "indicator alone (the others held), the value it needs:",
    ),
    "path_no_single": (
        "没有哪一个指标单独提高就能进入该榜单；需要同时提高多个指标。",
        "No single indicator is enough on its own; several must rise together.",
    ),
    "col_value_now": ("现值", "Now"),
    "col_value_needed": ("所需数值", "Needed"),
    "col_points_now_after": ("分值（现在 → 之后）", "Points (now → after)"),
    "path_impossible": (
        "即使所有指标都拿满分，也达不到分数线。",
        "Even full points on every indicator would not reach the cut-off.",
    ),
    "path_item": (
        "{indicator}：现得 {earned} 分，最多 {full} 分，可提升 {room} 分",
        "{indicator}: earns {earned} of {full}, room {room}",
    ),
    "plot_waterfall_title": ("{firm}：基准 → 候选 总分", "{firm}: base → candidate total"),
    "wf_base": ("基准总分", "base total"),
    "wf_candidate": ("候选总分", "candidate total"),
    "wf_other": ("其他 {n} 项", "{n} others"),
    "plot_waterfall_x": ("分", "points"),
    # --- limitations -------------------------------------------------------------------------
    "lim_reconstructed": (
        "以下要素并非官方公开数字，而是依据公开资料推断的重建值（provenance: reconstructed），不能作为官方口径引用：",
        "These elements are not official published numbers but reconstructions from public "
        "sources (provenance: reconstructed); never cite them as official:",
    ),
    "lim_fw": ("“{name}”（{id}）：{n} 项", "“{name}” ({id}): {n} element(s)"),
    "lim_fw_none": (
        "“{name}”（{id}）没有重建要素。",
        "“{name}” ({id}) has no reconstructed element.",
    ),
    "lim_shared": (
        "与“{other}”相同的 {n} 项不再重复列出，只列出不同的项。",
        "The {n} element(s) shared with “{other}” are not repeated; only those that differ are listed.",
    ),
    "col_element": ("要素", "Element"),
    "col_reasoning": ("依据", "Reasoning"),
    "kind_framework": ("框架", "framework"),
    "kind_stage": ("阶段", "stage"),
    "kind_group": ("类别", "group"),
    "kind_indicator": ("指标", "indicator"),
    "kind_penalty": ("扣分/否决项", "penalty"),
    "kind_tier": ("榜单", "list"),
    "kind_subsidy": ("补贴", "subsidy"),
    "lim_synthetic": (
        "数据为合成数据：企业、园区与事件均为模拟，真实数据中指标的分布、缺失与因果关系可能不同。",
        "The data are synthetic: firms, parks and events are simulated; real data may differ in "
        "distributions, missing values and causal links.",
    ),
    "h_samples": ("样本量", "Sample sizes"),
    "lim_n_rows": ("企业-年度：{n}", "Firm-years: {n}"),
    "lim_held_out": (
        "留出年份 {years}：{n} 个企业-年度，{events} 个事件",
        "Held-out years {years}: {n} firm-years, {events} events",
    ),
    "lim_few_events": (
        "留出年份的事件少于 30 个，精确率与 AUC 的波动较大。",
        "Fewer than 30 events in the held-out years: precision and AUC are noisy.",
    ),
    "lim_boot": ("自助抽样：{n} 次", "Bootstrap samples: {n}"),
    "lim_shap": ("SHAP：{used} / {total} 个企业-年度", "SHAP: {used} of {total} firm-years"),
    "lim_draws": ("权重抽样：{n} 次", "Weight draws: {n}"),
    "lim_compared": ("对比的企业-年度：{n}", "Firm-years compared: {n}"),
    "lim_general": (
        "留出检验只覆盖少数年份与这些园区；分值在其他园区或其他年份的表现可能不同。高新技术企业认定约一半分数来自专家评审，模型只能通过可观测指标间接看到它。",
        "The held-out check covers a few years and these parks only; points may behave "
        "differently elsewhere. About half of the high-tech certification score is expert "
        "judgement, which models see only through the observable indicators.",
    ),
    "h_notes": ("补充说明", "Notes"),
    "h_reconstructed": ("重建要素", "Reconstructed elements"),
    # --- events and objectives ---------------------------------------------------------------
    "event_hte_certified": ("获得高新技术企业认定", "national high-tech enterprise certification"),
    "event_tech_sme_registered": ("完成科技型中小企业评价入库", "tech-based SME registration"),
    "event_loan_granted": ("获得创新积分贷", "an innovation points loan"),
    "event_loan_default": ("贷款违约", "a loan default"),
    "obj_loglik": ("对数似然（分阶段逻辑回归）", "log-likelihood (per-stage logistic)"),
    "obj_auc": ("AUC", "AUC"),
    "obj_top5": ("前 5% 精确率", "precision in the top 5 %"),
    "obj_top10": ("前 10% 精确率", "precision in the top 10 %"),
    "obj_top20": ("前 20% 精确率", "precision in the top 20 %"),
    "and": ("、", ", "),
    "paren": ("（{x}）", " ({x})"),
    "colon": ("：", ": "),
    "none_word": ("无", "none"),
    "years_range": ("{a}–{b} 年", "{a}–{b}"),
    "years_one": ("{a} 年", "{a}"),
    "pct": ("{v}%", "{v} %"),
    "pp": ("{v} 个百分点", "{v} pp"),
}


_CJK = re.compile(r"[\u4e00-\u9fff]")


def default_lang(framework: Any) -> str:
    """``zh`` for a framework with a Chinese name (every shipped one), else ``en``."""
    name = getattr(framework, "name", None)
    return "zh" if name is not None and _CJK.search(str(name.zh)) else "en"


class Translator:
    """Look up report text in one language.

    Parameters
    ----------
    lang : {"zh", "en"}
        Chinese (default of the report) or English.
    """

    def __init__(self, lang: str = "zh") -> None:
        if lang not in LANGS:
            raise ValueError(MSG_LANG.format(langs=", ".join(LANGS), lang=lang))
        self.lang = lang
        self._i = LANGS.index(lang)

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key``, with ``{placeholders}`` filled from ``values``."""
        text = MESSAGES[key][self._i]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the table has ``key``."""
        return key in MESSAGES

    def pick(self, name: Name) -> str:
        """The name in the report language only (for short plot labels)."""
        return name.zh if self.lang == "zh" else name.en

    def both(self, name: Name) -> str:
        """A name in both languages, the report language first: ``研发费用占营业收入比例 R&D / revenue``."""
        if name.zh == name.en:
            return name.zh
        return f"{name.zh} {name.en}" if self.lang == "zh" else f"{name.en} {name.zh}"

    def join(self, items: list[str]) -> str:
        """Items joined by the language's list separator (``none`` when empty)."""
        return self("and").join(items) if items else self("none_word")

    def num(self, value: Any, digits: int = 3) -> str:
        """A number for tables: ``–`` for missing, thousands separators, at most ``digits`` decimals."""
        if value is None:
            return "–"
        try:
            x = float(value)
        except (TypeError, ValueError):
            return str(value)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x.is_integer() and abs(x) < 1e15:
            return f"{int(x):,}"
        text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text

    def signed(self, value: Any, digits: int = 2) -> str:
        """A change with its sign: ``+3``, ``−1.5``, ``0``."""
        text = self.num(value, digits)
        if text in ("–", "0"):
            return text
        return text.replace("-", "−") if text.startswith("-") else f"+{text}"

    def pct(self, value: Any, digits: int = 1) -> str:
        """A fraction as a percentage: 0.123 → ``12.3%``."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return self("pct", v=f"{100 * float(value):.{digits}f}")

    def pp(self, value: Any, digits: int = 1) -> str:
        """A change of a share in percentage points: 0.012 → ``+1.2 个百分点`` / ``+1.2 pp``."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return self("pp", v=self.signed(100 * float(value), digits))

    def years(self, years: Any) -> str:
        """A year range: ``2019–2023 年`` / ``2019–2023``, or the years listed."""
        ys = sorted(int(y) for y in years)
        if not ys:
            return self("none_word")
        if len(ys) == 1:
            return self("years_one", a=ys[0])
        if ys == list(range(ys[0], ys[-1] + 1)):
            return self("years_range", a=ys[0], b=ys[-1])
        return self.join([str(y) for y in ys])
