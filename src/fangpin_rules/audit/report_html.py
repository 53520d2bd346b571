"""The audit report: one self-contained HTML page of a diff, its impact and its attribution.

Nothing is fetched: the style, the language switch and the chart (SVG drawn here) are inline.
Every text is in the page in Chinese and English (the policy's own titles and labels), and the
button shows one or the other. Policy text is hostile: everything is `html.escape`d, and the
only text in a `<script>` is the report's JSON with `<`, `>` and `&` escaped.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

from fangpin_rules.audit.attribution import Attribution, is_warning, shown
from fangpin_rules.audit.changes import Change, PolicyDiff
from fangpin_rules.audit.impact import ImpactReport
from fangpin_rules.audit.render import KIND_ZH, SECTION_ZH, Labels, to_json
from fangpin_rules.diagnostics import Location
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.policy.document import localized

SECTION_EN = {"metadata": "Metadata", "article": "Articles", "vocabulary": "Vocabularies",
              "parameter": "Parameters", "definition": "Definitions", "decision": "Decisions",
              "rule": "Rules", "step": "Procedure deadlines",
              "warning": "Data-consistency rules", "duty": "Recurring duties",
              "calendar": "Working calendar"}
KIND_EN = {"added": "added", "removed": "removed", "changed": "changed",
           "reordered": "reordered"}
HOW_TEXT = {"alone": ("单独即可", "alone"), "combination": ("组合", "combination"),
            "cumulative": ("依次累加", "cumulative"), "none": ("无法复现", "not reproduced")}

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;color:#222;background:#fff}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .5em;
vertical-align:top}th{background:#eef}code{white-space:pre-wrap}
body.lang-zh .en,body.lang-en .zh{display:none}
#lang-switch{position:fixed;top:1em;right:1em;padding:.4em .8em}
.old{color:#a33}.new{color:#262}svg{border:1px solid #ccc;background:#fcfcfc}
"""
_SCRIPT = """
(function(){var b=document.getElementById('lang-switch');
b.addEventListener('click',function(){var en=document.body.classList.contains('lang-zh');
document.body.classList.toggle('lang-zh',!en);document.body.classList.toggle('lang-en',en);
document.documentElement.lang=en?'en':'zh';});})();
"""


def e(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def both(zh: str | None, en: str | None) -> str:
    """A text in both languages (English falls back to the Chinese when the policy has none)."""
    return f'<span class="zh">{e(zh)}</span><span class="en">{e(en or zh)}</span>'


def script_json(data: Any) -> str:
    """JSON safe inside `<script>`: no `<`, `>` or `&` can end the element or start markup."""
    return (dumps(data).replace("&", "\\u0026").replace("<", "\\u003c")
            .replace(">", "\\u003e"))


def render_html(diff: PolicyDiff, old: Any, new: Any, report: ImpactReport | None = None,
                attribution: Attribution | None = None) -> str:
    labels = Labels(old, new)
    titles = [_titles(p) for p in (old, new)]
    parts = ['<!DOCTYPE html>', '<html lang="zh"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(titles[1][0])} — 审计报告</title><style>{_STYLE}</style></head>",
             '<body class="lang-zh">',
             '<button id="lang-switch" type="button">中文 / English</button>',
             f"<h1>{both('审计报告', 'Audit report')}: {both(*titles[0])} → "
             f"{both(*titles[1])}</h1>",
             f"<p>{both('旧版本', 'Old version')}: <code>{e(diff.old.path)}</code> "
             f"{e(diff.old.version)} <code>{e(diff.old.sha256[:12])}</code>; "
             f"{both('新版本', 'New version')}: <code>{e(diff.new.path)}</code> "
             f"{e(diff.new.version)} <code>{e(diff.new.sha256[:12])}</code></p>"]
    parts += _changes(diff, old, new)
    if report is not None:
        parts += _impact(report, labels)
    if attribution is not None:
        parts += _attribution(attribution, labels)
    parts.append(f'<script type="application/json" id="report-data">'
                 f"{script_json(to_json(diff, report, attribution))}</script>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _titles(policy: Any) -> tuple[str, str]:
    meta = getattr(policy, "checked", policy).document.policy
    return (localized(meta.title, "zh") or meta.id, localized(meta.title, "en") or meta.id)


def _where(location: Location | None) -> str:
    if location is None:
        return "—"
    return f"{location.file}:{location.line}" if location.line else location.file


def _english_title(change: Change, policies: list[Any]) -> str | None:
    """The item's English title, from the version that has it (the policy's own text; None
    when the policy gives the item no English)."""
    for policy in policies:
        title = _item_title(getattr(policy, "checked", policy).document, change)
        if title is not None:
            return localized(title, "en")
    return None


def _item_title(document: Any, change: Change) -> Any:
    """The title (zh, en) of the item a change is in, as the policy document writes it."""
    section, name = change.section, change.name
    by_section = {"parameter": document.parameters, "article": document.articles,
                  "step": document.procedure, "warning": document.warnings,
                  "duty": document.duties}
    if section in by_section:
        item = by_section[section].get(name)
        return getattr(item, "title", None)
    if section == "definition" and name in document.definitions:
        return document.definitions[name].title
    if section in ("definition", "decision"):
        head, _, field = name.partition(".")
        decision = document.decisions.get(head)
        fields = getattr(decision, "fields", None) or {}
        return getattr(fields.get(field), "title", None) if field else \
            getattr(decision, "title", None)
    if section == "rule":
        for decision in document.decisions.values():
            specs = [decision, *(getattr(decision, "fields", None) or {}).values()]
            for spec in specs:
                for rule in getattr(spec, "rules", None) or ():
                    if rule.id == name:
                        return rule.title
    if section == "metadata" and change.field == "title":
        return document.policy.title
    return None


def _changes(diff: PolicyDiff, old: Any, new: Any) -> list[str]:
    out = [f"<h2>{both('变更', 'Changes')} ({len(diff)})</h2>"]
    if not diff:
        return [*out, f"<p>{both('无变更', 'No change')}</p>"]
    out.append('<table id="changes"><tr><th>#</th>'
               f"<th>{both('部分', 'Section')}</th><th>{both('变化', 'Kind')}</th>"
               f"<th>{both('项目', 'Item')}</th><th>{both('旧', 'Old')} → {both('新', 'New')}"
               f"</th><th>{both('依据', 'Article')}</th><th>{both('位置', 'Where')}</th></tr>")
    for number, c in enumerate(diff.changes, start=1):
        title = both(c.title, _english_title(c, [new, old])) if c.title else ""
        field = f" · {e(c.field)}" if c.field else ""
        out.append(
            f"<tr><td>{number}</td><td>{both(SECTION_ZH[c.section], SECTION_EN[c.section])}"
            f"</td><td>{both(KIND_ZH[c.kind], KIND_EN[c.kind])}</td>"
            f"<td><code>{e(c.name)}</code>{field}<br>{title}</td>"
            f'<td><code class="old">{e(c.old if c.old is not None else "—")}</code> → '
            f'<code class="new">{e(c.new if c.new is not None else "—")}</code></td>'
            f"<td>{e(c.cite)}</td><td>{e(_where(c.old_location))} → "
            f"{e(_where(c.new_location))}</td></tr>")
    out.append("</table>")
    return out


def _impact(report: ImpactReport, labels: Labels) -> list[str]:
    out = [f"<h2>{both('对农户的影响', 'Impact on households')} ({e(report.as_of)})</h2>",
           f'<p id="impact-counts">{both("读取", "read")} {report.read}, '
           f"{both('比对', 'compared')} {report.compared}, {both('拒绝', 'rejected')} "
           f"{report.rejected}, {both('有变化', 'changed')} {report.changed}</p>"]
    for name, table in report.transitions.items():
        if not any(o != n for o, n in table):
            continue
        values = sorted({o for o, _ in table} | {n for _, n in table}, key=lambda v: v or "~")
        out.append(f"<h3>{both(labels.output(name), labels.output(name, 'en'))} "
                   f"{both('转移矩阵（行：旧，列：新）', 'transitions (rows: old, columns: new)')}"
                   f"</h3>")
        out.append(f'<table class="matrix" data-output="{e(name)}"><tr><th></th>'
                   + "".join(f"<th>{both(labels.label(name, v), labels.label(name, v, 'en'))}"
                             f"</th>" for v in values) + "</tr>")
        for old in values:
            out.append(f"<tr><th>{both(labels.label(name, old), labels.label(name, old, 'en'))}"
                       "</th>" + "".join(f"<td>{table.get((old, new), 0)}</td>"
                                         for new in values) + "</tr>")
        out.append("</table>")
    return out


def _attribution(attribution: Attribution, labels: Labels) -> list[str]:
    out = [f"<h2>{both('变更归因', 'Attribution')}</h2>"]
    if attribution.skipped:
        return [*out, f"<p>{e(attribution.skipped)}</p>"]
    out.append(f"<p>{both('归因的农户', 'Households attributed')}: {attribution.households}"
               "</p>")
    out.append('<table id="attribution"><tr><th>#</th>'
               f"<th>{both('项目', 'Item')}</th><th>{both('变更', 'Changes')}</th>"
               f"<th>{both('依据', 'Articles')}</th><th>{both('单独即可', 'Alone')}</th>"
               f"<th>{both('归入', 'Attributed')}</th></tr>")
    for i, edit in enumerate(attribution.edits):
        first = attribution.diff.changes[edit.changes[0]]
        title = f"<br>{both(first.title, _english_title(first, labels.policies))}" \
            if first.title else ""
        out.append(f"<tr><td>[{i + 1}]</td><td><code>{e(edit.label)}</code>{title}</td>"
                   f"<td>{e(', '.join(str(c + 1) for c in edit.changes))}</td>"
                   f"<td>{e(', '.join(attribution.edit_cites(i)))}</td>"
                   f"<td>{attribution.moved_alone.get(i, 0)}</td>"
                   f"<td>{attribution.attributed.get(i, 0)}</td></tr>")
    out.append("</table>")
    if attribution.regions:
        out.append(f"<h3>{both('按地区', 'By region')}</h3><table id=\"regions\"><tr>"
                   f"<th>region_code</th><th>{both('比对', 'Compared')}</th>"
                   f"<th>{both('有变化', 'Changed')}</th></tr>")
        for region, fig in sorted(attribution.regions.items(), key=lambda i: i[0] or ""):
            out.append(f"<tr><td>{e(region or '—')}</td><td>{fig.compared}</td>"
                       f"<td>{fig.changed}</td></tr>")
        out.append("</table>")
    out += _chart(attribution, labels)
    if attribution.rows:
        out.append(f"<h3>{both('农户', 'Households')} ({len(attribution.rows)} / "
                   f"{attribution.households})</h3><table id=\"households\"><tr>"
                   f"<th>{both('农户', 'Household')}</th><th>{both('足以复现的变更', 'Sufficient')}"
                   f"</th><th>{both('方式', 'How')}</th><th>{both('决定：旧 → 新', 'Old → new')}"
                   "</th></tr>")
        for row in attribution.rows:
            combo = " + ".join(f"[{i + 1}]" for i in row.sufficient) or "—"
            moved = "<br>".join(
                f"{both(labels.output(n), labels.output(n, 'en'))}: "
                f'<span class="old">{_value(labels, n, o)}</span> → '
                f'<span class="new">{_value(labels, n, v)}</span>' for n, o, v in row.outputs)
            combo += f" ({', '.join(row.articles)})" if row.articles else ""
            out.append(f"<tr><td>{e(row.household_id)}</td><td>{e(combo)}</td>"
                       f"<td>{both(*HOW_TEXT[row.how])}{_not_minimal(row.minimal)}</td>"
                       f"<td>{moved}</td></tr>")
        out.append("</table>")
    return out


def _not_minimal(minimal: bool) -> str:
    return "" if minimal else " " + both("（未必最小）", "(not shown minimal)")


def _value(labels: Labels, output: str, value: Any) -> str:
    """A decision's value in both languages: labels by their names, other values as text."""
    if isinstance(value, str):
        return both(labels.label(output, value), labels.label(output, value, "en"))
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "、".join(_value(labels, output, v) for v in sorted(value))
    if isinstance(value, list) and value and all(is_warning(v) for v in value):
        return "、".join(f"{_value(labels, output, w['code'])} (<code>{e(w['field'])}</code>)"
                        for w in sorted(value, key=lambda w: (w["code"], w["field"])))
    return e(shown(value))


def _chart(attribution: Attribution, labels: Labels) -> list[str]:
    """Households decided differently along the chart's axis (per-capita income, say), with
    each line in force in the old (dashed) and the new version (solid)."""
    axis = attribution.chart_axis
    if axis is None or not attribution.chart:
        return []
    lines = [v for _, old, new in attribution.chart_lines for v in (old, new) if v is not None]
    values = [p.value for p in attribution.chart] + lines
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)
    width, height, margin = 760, 260, 40
    rows = max(1, min(len(attribution.chart), 40))
    top = 13 * (2 * len(attribution.chart_lines)) + 6

    def x(value: Decimal) -> str:
        return f"{margin + float((value - low) / span) * (width - 2 * margin):.1f}"

    out = [f"<h3>{both('决定有变化的农户与监测线', 'Households moved, and the lines')}: "
           f"{both(labels.output(axis), labels.output(axis, 'en'))}</h3>",
           f'<svg id="chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
           f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" '
           f'y2="{height - margin}" stroke="#444"/>',
           f'<text x="{margin}" y="{height - 10}" font-size="12">{e(shown(low))}</text>',
           f'<text x="{width - margin}" y="{height - 10}" font-size="12" '
           f'text-anchor="end">{e(shown(high))}</text>']
    label_row = 0
    for name, old, new in attribution.chart_lines:
        for value, dash, version in ((old, "6,4", ("旧", "old")), (new, "", ("新", "new"))):
            if value is None:
                continue
            label_row += 1  # each line's label on its own row, so close lines stay legible
            out.append(f'<line x1="{x(value)}" y1="{top}" x2="{x(value)}" '
                       f'y2="{height - margin}" stroke="#a33" stroke-dasharray="{dash}">'
                       f"<title>{e(name)} {e(version[1])} {e(shown(value))}</title></line>")
            out.append(f'<text x="{x(value)}" y="{13 * label_row}" font-size="11" '
                       'text-anchor="start">'
                       f'<tspan class="zh">{e(labels.output(name))}（{version[0]}）</tspan>'
                       f'<tspan class="en">{e(labels.output(name, "en"))} ({version[1]})'
                       f"</tspan> {e(shown(value))}</text>")
    band = (height - margin - top) / rows
    for index, point in enumerate(attribution.chart):
        y = top + band * (index % rows) + band / 2
        entered = not point.old and bool(point.new)
        colour = "#c22" if entered else "#226"
        out.append(f'<circle cx="{x(point.value)}" cy="{y:.1f}" r="4" fill="{colour}">'
                   f"<title>{e(point.household_id)}: {e(point.output)} {e(shown(point.old))} → "
                   f"{e(shown(point.new))}</title></circle>")
    out.append("</svg>")
    return out
