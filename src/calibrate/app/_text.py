"""Every word the workbench page shows, in Chinese and English (Chinese first)."""

from __future__ import annotations

LANGS = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("积分政策试算工作台", "Points-policy what-if workbench"),
    "subtitle": (
        "对比基准：启动时载入的框架 {base}。每次修改都会重新计分并与之对比。",
        "Compared with the framework loaded at start, {base}. Every edit re-scores and compares.",
    ),
    "lang": ("语言", "Language"),
    "tab_points": ("指标分值", "Points"),
    "tab_goalposts": ("线性标杆", "Goalposts"),
    "tab_lists": ("榜单与补贴", "Lists and subsidies"),
    "tab_path": ("建议路径", "Edit path"),
    "tab_firm": ("企业查询", "Firm"),
    "tab_save": ("保存", "Save"),
    "points_help": (
        "双击单元格修改分值。核心指标分值之和须等于每个阶段的预算；未平衡前的修改暂存为草稿，不计分。",
        "Double-click a cell to edit. Core points must add up to each stage's budget; edits that "
        "leave a stage off budget are kept as a draft and not scored until the sums balance.",
    ),
    "goalposts_help": (
        "线性指标：取值达到「低」得 0 分，达到「高」得满分。",
        "Linear indicators: a value at 'low' earns 0 points, at 'high' full points.",
    ),
    "lists_help": (
        "榜单比例须从小到大（前 5%、10%、20%……）。",
        "List fractions must increase (top 5 %, 10 %, 20 % …).",
    ),
    "indicator": ("指标", "Indicator"),
    "name": ("名称", "Name"),
    "group": ("类别", "Group"),
    "stage": ("阶段", "Stage"),
    "low": ("低", "Low"),
    "high": ("高", "High"),
    "list": ("榜单", "List"),
    "top_fraction": ("比例", "Top fraction"),
    "amount_wan": ("金额（万元）", "Amount (万元)"),
    "max_firms": ("名额上限", "Seat cap"),
    "reset": ("恢复启动时的框架", "Back to the start"),
    "status_scored": (
        "已重新计分并对比（服务器计算 {ms:.0f} 毫秒）。",
        "Re-scored and compared ({ms:.0f} ms of server compute).",
    ),
    "status_draft": ("草稿未计分：", "Draft, not scored: "),
    "status_refused": ("修改被拒绝，未作任何改变：", "Edit refused, nothing changed: "),
    "budget": ("分值之和（核心指标）", "Points-sum constraint (core indicators)"),
    "core_points": ("核心分值之和", "Core points"),
    "budget_col": ("预算", "Budget"),
    "gap": ("差额", "Gap"),
    "balanced": ("已平衡", "Balanced"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "results": ("对比结果", "Comparison"),
    "unchanged": (
        "与启动时的框架相同：没有变化。",
        "Same as the framework at start: nothing changed.",
    ),
    "churn": (
        "**排名变动**：Spearman {spearman:.4f}，Kendall {kendall:.4f}；"
        "平均名次变动 {mean:.2f}，最大 {max:.0f}；名次变动企业占比 {share:.1%}。",
        "**Rank churn**: Spearman {spearman:.4f}, Kendall {kendall:.4f}; mean rank move "
        "{mean:.2f}, largest {max:.0f}; {share:.1%} of firms change rank.",
    ),
    "list_moves": (
        "**榜单**：{entered} 家进入、{left} 家离开某一榜单（新上榜 {newly}，落榜 {delisted}）。",
        "**Lists**: {entered} firms enter and {left} leave a list ({newly} newly listed, "
        "{delisted} delisted).",
    ),
    "subsidy_moves": (
        "**补贴**：{gained} 家新获、{lost} 家失去；补贴总额 {base:,.0f} → {cand:,.0f} 万元（净变动 {net:+,.0f}）。",
        "**Subsidies**: {gained} firms gain, {lost} lose; total {base:,.0f} → {cand:,.0f} 万元 "
        "(net {net:+,.0f}).",
    ),
    "movers": (
        "进出榜单的企业及原因（前 {shown} / 共 {n}）",
        "Firms entering / leaving lists, with reasons (first {shown} of {n})",
    ),
    "lists_table": ("各榜单进出", "Entrants and leavers per list"),
    "subsidies_table": ("各阶段补贴", "Subsidies per stage"),
    "outcomes": ("结果指标", "Outcome metrics"),
    "no_events": (
        "未提供事件数据（--events/--target），不计算结果指标。",
        "No events given (--events/--target): no outcome metrics.",
    ),
    "years_held_out": (
        "留出年份 {years}：不含所载建议框架的训练年份 {train}（目标 {target}，{horizon} 年内）。",
        "Held-out years {years}: the loaded suggestion's training years {train} are left out "
        "(target {target}, within {horizon} year(s)).",
    ),
    "years_plain": (
        "所用年份 {years}（目标 {target}，{horizon} 年内），未区分训练与检验：这里没有框架在这些年份上拟合，"
        "但修改时可见这些指标，因此不是留出检验。",
        "Years used {years} (target {target}, within {horizon} year(s)), all years, not split into "
        "training and test: no framework here was fitted on them, but you see these metrics while "
        "editing, so this is not a held-out test.",
    ),
    "years_none": ("没有可用的已标注年份。", "No labelled years to evaluate."),
    "path_file": ("建议框架 YAML 文件路径", "Suggested framework YAML path"),
    "load": ("载入", "Load"),
    "step": ("步骤（0 = 起点）", "Step (0 = the start)"),
    "path_none": ("尚未载入建议框架。", "No suggested framework loaded."),
    "path_loaded": ("已载入 {id}（{n} 步）。", "Loaded {id} ({n} steps)."),
    "firm_id": ("企业 ID（统一社会信用代码）", "Enterprise id (unified social credit code)"),
    "year": ("年份", "Year"),
    "search": ("查询", "Search"),
    "firm_points": ("积分明细：启动时 vs 当前", "Points: at start vs now"),
    "old": ("启动时", "At start"),
    "new": ("当前", "Now"),
    "change": ("变化", "Change"),
    "nearest": (
        "进入下一榜单的最短路径（当前框架）",
        "Nearest path to the next list (current framework)",
    ),
    "nearest_head": (
        "当前榜单 {tier}，目标 {target}；总分 {total:.2f}，门槛 {cutoff:.2f}，还差 {need:.2f} 分。",
        "On list {tier}, aiming at {target}; total {total:.2f}, cut-off {cutoff:.2f}, "
        "{need:.2f} points short.",
    ),
    "nearest_none": ("无法计算路径：{reason}", "No path: {reason}"),
    "none_list": ("无", "none"),
    "vetoed": ("一票否决", "vetoed"),
    "entered": ("进入", "entered"),
    "left_list": ("离开", "left"),
    "total_row": ("合计", "total"),
    "save": (
        "保存框架（YAML）与对比（xlsx）",
        "Save the framework (YAML) and the comparison (xlsx)",
    ),
    "saved": ("已保存：{yaml}；{xlsx}", "Saved: {yaml}; {xlsx}"),
    "saved_run": ("MLflow 运行 {run}", "MLflow run {run}"),
    "saved_no_track": (
        "未记录 MLflow（跟踪已关闭或失败）。",
        "No MLflow run (tracking off or failed).",
    ),
    "save_draft": (
        "草稿未平衡，不能保存：请先使各阶段核心分值之和等于预算。",
        "The draft is off budget and cannot be saved: balance the core sums first.",
    ),
}

#: Column titles of the comparison tables (compare's column names → zh / en).
COLUMNS: dict[str, tuple[str, str]] = {
    "enterprise_id": ("企业", "Enterprise"),
    "year": ("年份", "Year"),
    "park": ("园区", "Park"),
    "stage": ("阶段", "Stage"),
    "list": ("榜单", "List"),
    "change": ("变化", "Change"),
    "tier_base": ("原榜单", "List at start"),
    "tier_candidate": ("现榜单", "List now"),
    "rank_base": ("原名次", "Rank at start"),
    "rank_candidate": ("现名次", "Rank now"),
    "total_change": ("总分变化", "Total change"),
    "margin_candidate": ("距门槛", "Margin to cut-off"),
    "drivers": ("主要原因（积分变化）", "Reasons (points moved)"),
    "firms_base": ("原人数", "Firms at start"),
    "firms_candidate": ("现人数", "Firms now"),
    "stayed": ("留榜", "Stayed"),
    "entered": ("进入", "Entered"),
    "left": ("离开", "Left"),
    "churn": ("变动率", "Churn"),
    "gained": ("新获", "Gained"),
    "lost": ("失去", "Lost"),
    "paid_base_wan": ("原金额（万元）", "Paid at start (万元)"),
    "paid_candidate_wan": ("现金额（万元）", "Paid now (万元)"),
    "gained_wan": ("新增（万元）", "Gained (万元)"),
    "lost_wan": ("减少（万元）", "Lost (万元)"),
    "net_wan": ("净变动（万元）", "Net (万元)"),
    "metric": ("指标", "Metric"),
    "base": ("启动时", "At start"),
    "candidate": ("当前", "Now"),
    "current": ("现值", "Value now"),
    "threshold": ("需达到", "Needed"),
    "points_now": ("现得分", "Points now"),
    "points_after": ("达到后得分", "Points after"),
    "reachable": ("可达", "Reachable"),
    "step": ("步骤", "Step"),
    "move": ("调整", "Move"),
    "text_zh": ("说明", "Text (zh)"),
    "text_en": ("说明（英文）", "Text"),
    "train": ("训练集", "Train"),
    "held_out": ("留出集", "Held out"),
    "chosen_share": ("入选比例", "Chosen share"),
    "firms_changing_list": ("换榜企业", "Firms changing list"),
}


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``values``."""
    zh, en = TEXT[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def column_title(column: str, lang: str) -> str:
    """A table column's title in ``lang`` (the column name itself when it has none)."""
    pair = COLUMNS.get(column)
    if pair is None:
        return t(column, lang) if column in TEXT else column
    return pair[0] if lang == "zh" else pair[1]
