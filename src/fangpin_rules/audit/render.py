"""A diff (and its impact report and attribution) as text, JSON or Markdown.

Text is for a terminal: Chinese labels from the policies' own vocabularies and titles, colour
only when asked (the CLI asks when its output is a terminal). JSON follows the versioned schema
of docs/audit-guide.md (`SCHEMA`); a tool should refuse a major version it does not know.
Markdown is for a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fangpin_rules.audit.changes import Change, PolicyDiff, PolicyRef
from fangpin_rules.audit.impact import WARNINGS, ImpactReport, label_key, transition_key
from fangpin_rules.checker.checked import CheckedPolicy
from fangpin_rules.diagnostics import Location
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.policy.document import localized
from fangpin_rules.text import safe_text

if TYPE_CHECKING:
    from fangpin_rules.audit.attribution import Attribution

SCHEMA = "fangpin-diff/1"
FORMATS = ("text", "json", "markdown")
SECTION_ZH = {"metadata": "元数据", "article": "条款", "vocabulary": "词表", "parameter": "参数",
              "definition": "定义", "decision": "决策", "rule": "规则", "step": "程序时限",
              "warning": "数据核查规则",
              "duty": "周期性职责", "calendar": "工作日历"}
KIND_ZH = {"added": "新增", "removed": "删除", "changed": "修改", "reordered": "顺序调整"}
_COLOURS = {"added": "32", "removed": "31", "changed": "33", "reordered": "33", "head": "1"}
NONE_ZH = "（无）"


class Labels:
    """Chinese names of outputs and labels, from the new version (else the old one)."""

    def __init__(self, old: Any, new: Any) -> None:
        self.policies: list[CheckedPolicy] = [getattr(p, "checked", p) for p in (new, old)]

    def _decision(self, output: str) -> tuple[CheckedPolicy, str] | None:
        for policy in self.policies:
            for name in policy.outputs:
                if policy.output_name(name) == output:
                    return policy, name
        return None

    def output(self, output: str, lang: str = "zh") -> str:
        if output == "deadlines":
            return "程序时限" if lang == "zh" else "Procedure deadlines"
        if output == WARNINGS:
            return "数据核查预警" if lang == "zh" else "Data-consistency warnings"
        found = self._decision(output)
        if found is None:
            return output
        policy, name = found
        return localized(policy.document.decisions[name].title, lang) or output

    def label(self, output: str, value: str | None, lang: str = "zh") -> str:
        if value is None:
            return NONE_ZH if lang == "zh" else "(none)"
        if output == WARNINGS:
            return self._warning(value, lang)
        found = self._decision(output)
        if found is not None:
            policy, name = found
            vocabulary = policy.vocabularies.get(getattr(policy.document.decisions[name],
                                                         "type", None) or "")
            if vocabulary is not None and value in vocabulary.labels:
                zh, en = vocabulary.labels[value]
                return (en or zh) if lang == "en" else zh
        return value

    def _warning(self, code: str, lang: str) -> str:
        """A warning code's title: its rule's (the first rule's when several share it)."""
        for policy in self.policies:
            for name, rule in policy.document.warnings.items():
                if (rule.code or name) == code:
                    return localized(rule.title, lang) or code
        return code


# -- JSON -------------------------------------------------------------------------------------
def to_json(diff: PolicyDiff, report: ImpactReport | None = None,
            attribution: Attribution | None = None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "old": diff.old.to_json(), "new": diff.new.to_json(),
        "summary": {"changes": len(diff), "by_section": diff.counts()},
        "changes": [change.to_json() for change in diff.changes],
        "impact": report.to_json() if report is not None else None,
        "attribution": attribution.to_json() if attribution is not None else None,
    }


def render_json(diff: PolicyDiff, report: ImpactReport | None = None,
                attribution: Attribution | None = None) -> str:
    return dumps(to_json(diff, report, attribution)) + "\n"


# -- text -------------------------------------------------------------------------------------
def render_text(diff: PolicyDiff, report: ImpactReport | None = None,
                labels: Labels | None = None, *, colour: bool = False,
                attribution: Attribution | None = None) -> str:
    # Policy text is escaped (`safe_text`) before any colour is put around it: the only
    # escape sequences in the output are the renderer's own.
    def paint(kind: str, text: str) -> str:
        shown = safe_text(text)
        return f"\x1b[{_COLOURS[kind]}m{shown}\x1b[0m" if colour else shown

    out = [paint("head", f"政策差异：{_ref(diff.old)} → {_ref(diff.new)}")]
    if not diff:
        out.append("无变更（格式、注释、键的顺序和等价改写不算变更）。")
    else:
        counts = "，".join(f"{SECTION_ZH[s]} {sum(k.values())}" for s, k in diff.counts().items())
        out.append(safe_text(f"{len(diff)} 处变更：{counts}"))
    section = None
    for change in diff.changes:
        if change.section != section:
            section = change.section
            out += ["", paint("head", SECTION_ZH[section])]
        out.extend(_text_change(change, paint))
    if report is not None:
        out += ["", *_text_impact(report, labels or Labels(None, None), paint)]
    if attribution is not None:
        out += ["", *_text_attribution(attribution, paint)]
    return "\n".join(out) + "\n"


TEXT_ROWS = 20  # households listed in the text output (the JSON lists more)
NOT_MINIMAL_ZH = "（未必最小）"
HOW_ZH = {"alone": "单独即可", "combination": "组合", "cumulative": "依次累加", "none": "无法复现"}


def edit_names(attribution: Attribution, edits: tuple[int, ...]) -> str:
    return " + ".join(f"[{i + 1}]" for i in edits) or NONE_ZH


def _text_attribution(attribution: Attribution, paint: Any) -> list[str]:
    out = _attribution_lines(attribution)
    return [paint("head", out[0]), *(safe_text(line) for line in out[1:])]


def _attribution_lines(attribution: Attribution) -> list[str]:
    out = ["变更归因：哪项变更使农户的决定变化"]
    if attribution.skipped:
        return [*out, f"  {attribution.skipped}"]
    out.append(f"归因的农户 {attribution.households}；"
               + "，".join(f"{HOW_ZH[h]} {attribution.by_how.get(h, 0)}" for h in HOW_ZH))
    for i, edit in enumerate(attribution.edits):
        cites = ", ".join(attribution.edit_cites(i)) or NONE_ZH
        changes = ", ".join(f"#{c + 1}" for c in edit.changes)
        alone, attributed = attribution.moved_alone.get(i, 0), attribution.attributed.get(i, 0)
        out.append(f"  [{i + 1}] {edit.label}（变更 {changes}，依据 {cites}）：单独即可 "
                   f"{alone} 户，归入 {attributed} 户")
    if attribution.by_combination:
        out.append("足以复现的变更组合：")
        for combo, count in sorted(attribution.by_combination.items()):
            out.append(f"  {edit_names(attribution, combo)}: {count} 户")
    if attribution.regions:
        out.append("按地区（region_code）：")
        for region, fig in sorted(attribution.regions.items(), key=lambda i: i[0] or ""):
            out.append(f"  {region or NONE_ZH}: 比对 {fig.compared}，有变化 {fig.changed}")
    if attribution.rows:
        out.append(f"农户（前 {min(TEXT_ROWS, len(attribution.rows))} 户）：")
        for row in attribution.rows[:TEXT_ROWS]:
            moved = "; ".join(f"{name} {_value(old)} → {_value(new)}"
                              for name, old, new in row.outputs)
            out.append(f"  {row.household_id}: {edit_names(attribution, row.sufficient)} "
                       f"{HOW_ZH[row.how]}{'' if row.minimal else NOT_MINIMAL_ZH}  {moved}")
    return out


def _value(value: Any) -> str:
    from fangpin_rules.audit.attribution import shown

    return shown(value)


def _ref(ref: PolicyRef) -> str:
    version = f" {ref.version}" if ref.version else ""
    return f"{ref.id}{version} ({ref.path})"


def _text_change(change: Change, paint: Any) -> list[str]:
    what = change.name + (f" · {change.field}" if change.field else "")
    title = f"  {change.title}" if change.title and change.title != change.name else ""
    cite = f"  依据 {change.cite}" if change.cite else ""
    lines = [f"  {paint(change.kind, KIND_ZH[change.kind])} {safe_text(what + title + cite)}",
             *(safe_text(line) for line in (
                 f"    旧: {_shown(change.old)}", f"    新: {_shown(change.new)}",
                 f"    位置: {_where(change.old_location)} → {_where(change.new_location)}"))]
    if change.affects:
        lines.append(safe_text("    影响: " + ", ".join(change.affects)))
    return lines


def _shown(text: str | None) -> str:
    return NONE_ZH if text is None else text


def _where(location: Location | None) -> str:
    if location is None:
        return NONE_ZH
    return f"{location.file}:{location.line}" if location.line else location.file


def _text_impact(report: ImpactReport, labels: Labels, paint: Any) -> list[str]:
    out = [paint("head", f"对农户的影响（{report.as_of.isoformat()}）"),
           f"读取 {report.read}，比对 {report.compared}，拒绝 {report.rejected}；"
           f"决定有变化的农户 {report.changed}"]
    out.append("各项决定有变化的农户数：")
    for name in report.outputs:
        count = report.by_output.get(name, 0)
        sample = report.samples.get(name, [])
        uniform = "（不读农户数据，各户相同）" if name in report.uniform else ""
        out.append(f"  {name} {labels.output(name)}{uniform}: {count}"
                   + (f"  例: {', '.join(sample)}" if sample else ""))
    for name, table in report.transitions.items():
        if any(old != new for old, new in table):
            out += ["", f"{labels.output(name)}（{name}）转移：旧 → 新"]
            for (old, new), count in sorted(table.items(), key=lambda i: -i[1]):
                if old == new:
                    continue
                sample = report.samples.get(transition_key(name, old, new), [])
                out.append(f"  {labels.label(name, old)} → {labels.label(name, new)}: {count}"
                           + (f"  例: {', '.join(sample)}" if sample else ""))
            out.append(f"  （不变: {sum(c for (o, n), c in table.items() if o == n)}）")
    for name in report.gained:
        rows = _label_rows(report, name)
        if rows:
            out += ["", f"{labels.output(name)}（{name}）：增加 / 减少的农户数"]
            for label, gained, lost in rows:
                sample = report.samples.get(label_key(name, "+", label), []) + \
                    report.samples.get(label_key(name, "-", label), [])
                out.append(f"  {labels.label(name, label)} {label}: +{gained} -{lost}"
                           + (f"  例: {', '.join(sample[:report.sample_size])}" if sample
                              else ""))
    if report.rejections:
        out += ["", "拒绝的记录（前几条）:"]
        out += [f"  {report.numbered_by} {r.line} {r.household_id or '?'} {r.field or ''}: "
                f"{r.reason}"
                for r in report.rejections]
    return [out[0], *(safe_text(line) for line in out[1:])]  # out[0] is painted


def _label_rows(report: ImpactReport, name: str) -> list[tuple[str, int, int]]:
    gained, lost = report.gained[name], report.lost[name]
    return [(label, gained.get(label, 0), lost.get(label, 0))
            for label in sorted(gained.keys() | lost.keys())]


# -- Markdown ---------------------------------------------------------------------------------
def render_markdown(diff: PolicyDiff, report: ImpactReport | None = None,
                    labels: Labels | None = None,
                    attribution: Attribution | None = None) -> str:
    out = ["# 政策差异 / Policy diff", "",
           "| | 旧版本 old | 新版本 new |", "|---|---|---|",
           f"| 政策 | {_cell(diff.old.id)} {_cell(diff.old.version)} | "
           f"{_cell(diff.new.id)} {_cell(diff.new.version)} |",
           f"| 文件 | `{_cell(diff.old.path)}` | `{_cell(diff.new.path)}` |",
           f"| SHA-256 | `{diff.old.sha256[:12]}` | `{diff.new.sha256[:12]}` |", "",
           f"## 变更 / Changes ({len(diff)})", ""]
    if not diff:
        out.append("无变更 / no change.")
    else:
        out += ["| # | 部分 | 变化 | 项目 | 字段 | 旧 | 新 | 依据 | 位置（旧 → 新） | 影响 |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for number, c in enumerate(diff.changes, start=1):
            out.append(
                f"| {number} | {SECTION_ZH[c.section]} | {KIND_ZH[c.kind]} | `{_cell(c.name)}` | "
                f"{_cell(c.field)} | {_code(c.old)} | {_code(c.new)} | {_cell(c.cite)} | "
                f"{_cell(_where(c.old_location))} → {_cell(_where(c.new_location))} | "
                f"{_cell(', '.join(c.affects))} |")
    if report is not None:
        out += ["", *_markdown_impact(report, labels or Labels(None, None))]
    if attribution is not None:
        out += ["", *_markdown_attribution(attribution)]
    return "\n".join(out) + "\n"


def _markdown_attribution(attribution: Attribution) -> list[str]:
    out = ["## 变更归因 / Attribution", ""]
    if attribution.skipped:
        return [*out, _cell(attribution.skipped)]
    out += [f"归因的农户 attributed {attribution.households}: "
            + ", ".join(f"{HOW_ZH[h]} {h} {attribution.by_how.get(h, 0)}" for h in HOW_ZH) + ".",
            "", "| 编号 | 项目 | 变更 # | 依据 | 单独即可 alone | 归入 attributed |",
            "|---|---|---|---|---|---|"]
    for i, edit in enumerate(attribution.edits):
        out.append(f"| [{i + 1}] | `{_cell(edit.label)}` | "
                   f"{', '.join(str(c + 1) for c in edit.changes)} | "
                   f"{_cell(', '.join(attribution.edit_cites(i)))} | "
                   f"{attribution.moved_alone.get(i, 0)} | {attribution.attributed.get(i, 0)} |")
    if attribution.by_combination:
        out += ["", "| 足以复现的变更 sufficient | 农户 households |", "|---|---|"]
        for combo, count in sorted(attribution.by_combination.items()):
            out.append(f"| {edit_names(attribution, combo)} | {count} |")
    if attribution.regions:
        out += ["", "| 地区 region_code | 比对 compared | 有变化 changed |", "|---|---|---|"]
        for region, fig in sorted(attribution.regions.items(), key=lambda i: i[0] or ""):
            out.append(f"| {_cell(region) or NONE_ZH} | {fig.compared} | {fig.changed} |")
    if attribution.rows:
        out += ["", "| 农户 | 变更 | 方式 | 决定：旧 → 新 |", "|---|---|---|---|"]
        for row in attribution.rows:
            moved = "; ".join(f"`{_cell(name)}` {_cell(_value(old))} → {_cell(_value(new))}"
                              for name, old, new in row.outputs)
            minimal = "" if row.minimal else NOT_MINIMAL_ZH
            out.append(f"| {_cell(row.household_id)} | {edit_names(attribution, row.sufficient)} "
                       f"| {HOW_ZH[row.how]}{minimal} | {moved} |")
    return out


def _markdown_impact(report: ImpactReport, labels: Labels) -> list[str]:
    out = [f"## 对农户的影响 / Impact on households ({report.as_of.isoformat()})", "",
           f"读取 read {report.read}, 比对 compared {report.compared}, "
           f"拒绝 rejected {report.rejected}; 有变化 changed {report.changed}.", "",
           "| 决定 | 有变化的农户 | 例 |", "|---|---|---|"]
    for name in report.outputs:
        uniform = " (各户相同 same for all)" if name in report.uniform else ""
        sample = ", ".join(report.samples.get(name, []))
        out.append(f"| {_cell(labels.output(name))} (`{name}`){uniform} | "
                   f"{report.by_output.get(name, 0)} | {_cell(sample)} |")
    for name, table in report.transitions.items():
        olds = sorted({o for o, _ in table} | {n for _, n in table}, key=lambda v: v or "~")
        out += ["", f"### {_cell(labels.output(name))} 转移（行：旧，列：新）", "",
                "| 旧 \\ 新 | " + " | ".join(_cell(labels.label(name, v)) for v in olds) + " |",
                "|---|" + "---|" * len(olds)]
        for old in olds:
            out.append(f"| {_cell(labels.label(name, old))} | "
                       + " | ".join(str(table.get((old, new), 0)) for new in olds) + " |")
    for name in report.gained:
        rows = _label_rows(report, name)
        if rows:
            out += ["", f"### {_cell(labels.output(name))}：增加 / 减少", "",
                    "| 标签 | 增加 | 减少 | 例 |", "|---|---|---|---|"]
            for label, gained, lost in rows:
                ids = report.samples.get(label_key(name, "+", label), []) + \
                    report.samples.get(label_key(name, "-", label), [])
                out.append(f"| {_cell(labels.label(name, label))} (`{label}`) | {gained} | "
                           f"{lost} | {_cell(', '.join(ids[:report.sample_size]))} |")
    return out


def _cell(text: str | None) -> str:
    if text is None:
        return ""
    return safe_text(text.replace("|", "\\|").replace("\n", " "))


def _code(text: str | None) -> str:
    return "—" if text is None else f"`{_cell(text)}`"
