"""The explorer's page as HTML. Policy text is hostile: every text goes through `html.escape`,
the search index is JSON with `<`, `>` and `&` escaped inside its `<script>`, and the page's
script writes results with `textContent` only. Nothing is fetched: no network, no CDN."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from html import escape
from typing import Any

from fangpin_rules.explorer.content import OTHER, Article, Explorer, Item, Text

# A name in an expression (with its dotted path), or a string literal, which is never a name.
_TOKEN = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|(?<![\w.])[^\W\d]\w*(?:\.[^\W\d]\w*)*")

KIND_LABELS = {
    "parameter": Text("参数", "Parameter"), "definition": Text("定义", "Definition"),
    "decision": Text("决定", "Decision"), "field": Text("决定字段", "Decision field"),
    "rule": Text("规则", "Rule"), "warning": Text("数据警示", "Warning"),
    "step": Text("程序步骤", "Procedure step"), "duty": Text("定期职责", "Periodic duty"),
}
BASIS_LABELS = {
    "document": Text("文件原文", "document"), "interpretation": Text("解释", "interpretation"),
    "law": Text("法律法规", "law"),
}


def bilingual(text: Text, tag: str = "span") -> str:
    """The Chinese and English of a text, one shown at a time; English falls back to Chinese."""
    zh = escape(text.zh)
    en = escape(text.en) if text.en else zh
    return f'<{tag} class="zh" lang="zh">{zh}</{tag}><{tag} class="en" lang="en">{en}</{tag}>'


def ui(zh: str, en: str) -> str:
    return bilingual(Text(zh, en))


def script_json(value: Any) -> str:
    """JSON safe inside a `<script>` element: no `</script>`, `<!--` or entity can form."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def linked_code(text: str, anchors: dict[str, str]) -> str:
    """An expression with every name it reads linked to where that name is defined."""
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(escape(text[position:match.start()]))
        token = match.group(0)
        position = match.end()
        if token[0] in "\"'":
            out.append(f'<span class="str">{escape(token)}</span>')
            continue
        parts = token.split(".")
        for cut in range(len(parts), 0, -1):
            name = ".".join(parts[:cut])
            if name in anchors:
                rest = token[len(name):]
                out.append(f'<a class="name" href="#{escape(anchors[name])}">{escape(name)}</a>'
                           f"{escape(rest)}")
                break
        else:
            out.append(escape(token))
    out.append(escape(text[position:]))
    return "".join(out)


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _links(names: Iterable[str], explorer: Explorer) -> str:
    return ", ".join(f'<a href="#{escape(explorer.anchors[name])}">{escape(name)}</a>'
                     for name in names if name in explorer.anchors)


def _used_by(anchors: Iterable[str], explorer: Explorer) -> str:
    names = {item.anchor: item.name for item in explorer.items}
    return ", ".join(f'<a href="#{escape(a)}">{escape(names[a])}</a>' for a in anchors)


def _parameter_values(item: Item) -> list[str]:
    rows = []
    overrides = any("overrides" in v for v in item.values)
    head = (f"<tr><th>{ui('起', 'from')}</th><th>{ui('止', 'until')}</th>"
            f"<th>{ui('值', 'value')}</th><th>{ui('来源', 'source')}</th>"
            f"<th>{ui('位置', 'where')}</th>")
    if overrides:
        head += f"<th>{ui('覆盖的上级值', 'overrides the base value')}</th>"
    rows.append(head + "</tr>")
    for value in item.values:
        shown = f"= {value['formula']}" if "formula" in value else _value(value.get("value"))
        row = (f"<td>{escape(_value(value['from']))}</td><td>{escape(_value(value['until']))}"
               f"</td><td class=\"value\">{escape(shown)}</td>"
               f"<td>{escape(_value(value.get('source')))}</td>"
               f"<td class=\"where\">{escape(value['file'])}:{value['line']}</td>")
        if overrides:
            over = value.get("overrides")
            row += (f"<td class=\"overrides\">{escape(_value(over['value']))} "
                    f"<span class=\"where\">{escape(over['file'])}:{over['line']}</span></td>"
                    if over else "<td></td>")
        rows.append(f"<tr>{row}</tr>")
    bounds = "".join(f"<li>{escape(b['kind'])}: {escape(_value(b['value']))} "
                     f"<span class=\"where\">{escape(b['file'])}:{b['line']}</span></li>"
                     for b in item.bounds)
    table = f'<table class="values">{"".join(rows)}</table>'
    if bounds:
        table += f'<p>{ui("界限", "bounds")}</p><ul class="bounds">{bounds}</ul>'
    return [table]


def render_item(item: Item, explorer: Explorer) -> str:
    kind = KIND_LABELS[item.kind]
    basis = BASIS_LABELS.get(item.basis, Text(item.basis))
    parts = [f'<article class="item kind-{escape(item.kind)} basis-{escape(item.basis)}" '
             f'id="{escape(item.anchor)}">',
             f'<h3><span class="kind">{bilingual(kind)}</span> '
             f'<code class="item-name">{escape(item.name)}</code> '
             f'<span class="title">{bilingual(item.title)}</span></h3>',
             f'<p class="meta"><span class="basis">{bilingual(basis)}</span>'
             f' <span class="cite">{escape(item.cite or "")}</span>'
             f' <span class="where">{escape(item.where)}</span>']
    if item.parent and item.parent in explorer.anchors:
        parts.append(f' {ui("属于", "of")} {_links([item.parent], explorer)}')
    if item.origin:
        label = ui("县级新增", "added by the county") if item.origin == "added" else \
            ui("取代上级", "replaces the base") + \
            f' <span class="where">{escape(item.origin.removeprefix("replaces "))}</span>'
        parts.append(f' <span class="origin">{label}</span>')
    parts.append("</p>")
    if item.code:
        lines = "".join(f'<div><span class="label">{escape(label)}</span> '
                        f'<code>{linked_code(text, explorer.anchors)}</code></div>'
                        for label, text in item.code)
        parts.append(f'<div class="code">{lines}</div>')
    if item.note:
        parts.append(f'<p class="note">{escape(item.note)}</p>')
    if item.kind == "parameter":
        parts += _parameter_values(item)
    reads = sorted(name for name in item.reads if name in explorer.anchors)
    if reads:
        parts.append(f'<p class="reads">{ui("读取", "reads")}: {_links(reads, explorer)}</p>')
    lookup = [name for name, a in explorer.anchors.items() if a == item.anchor]
    users = [a for name in lookup for a in explorer.used_by.get(name, [])]
    if users:
        parts.append(f'<p class="used-by">{ui("被引用于", "used by")}: '
                     f"{_used_by(dict.fromkeys(users), explorer)}</p>")
    parts.append("</article>")
    return "".join(parts)


def render_article(article: Article, explorer: Explorer, shown: set[str]) -> str:
    heading = escape(article.key) + " " if article.key != OTHER else ""
    parts = [f'<section class="policy-article" id="{escape(article.anchor)}">',
             f"<h2>{heading}{bilingual(article.title)}</h2>"]
    if article.section:
        parts.append(f'<p class="section">{escape(article.section)}</p>')
    if article.text:
        parts.append(f'<blockquote class="article-text">{bilingual(article.text, "div")}'
                     "</blockquote>")
    for item in explorer.items_of(article.key):
        if item.anchor in shown:
            parts.append(f'<p class="see-also">{ui("另见", "see")} '
                         f'<a href="#{escape(item.anchor)}">{escape(item.name)}</a> '
                         f"{bilingual(item.title)}</p>")
            continue
        shown.add(item.anchor)
        parts.append(render_item(item, explorer))
    parts.append("</section>")
    return "".join(parts)


def search_index(explorer: Explorer) -> list[dict[str, str]]:
    """One entry per article and item: its anchor, kind, name and titles."""
    entries = [{"a": a.anchor, "k": "article", "n": a.key, "zh": a.title.zh,
                "en": a.title.en or ""} for a in explorer.articles]
    entries += [{"a": i.anchor, "k": i.kind, "n": i.name, "zh": i.title.zh,
                 "en": i.title.en or ""} for i in explorer.items]
    return entries


def render_index(explorer: Explorer) -> str:
    """The explorer's index.html."""
    shown: set[str] = set()
    articles = "".join(render_article(a, explorer, shown) for a in explorer.articles)
    toc = "".join(f'<li><a href="#{escape(a.anchor)}">'
                  f'{escape(a.key) + " " if a.key != OTHER else ""}{bilingual(a.title)}</a></li>'
                  for a in explorer.articles)
    chain = ""
    if explorer.chain:
        chain = (f'<p class="chain">{ui("继承", "extends")}: '
                 + " → ".join(f"{escape(link['id'])} <span class=\"where\">"
                              f"{escape(link['path'])}</span>" for link in explorer.chain)
                 + "</p>")
    legend = " ".join(f'<span class="basis basis-{escape(key)}">{bilingual(label)}</span>'
                      for key, label in BASIS_LABELS.items())
    return f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(explorer.title.zh)} — {escape(explorer.policy_id)}</title>
<link rel="stylesheet" href="explorer.css">
</head>
<body>
<header>
<h1>{bilingual(explorer.title)}</h1>
<p class="meta"><code>{escape(explorer.policy_id)}</code> {escape(explorer.document or "")}
 {ui("施行", "effective")} {escape(explorer.effective)}
 <span class="where">{escape(explorer.path)} sha256 {escape(explorer.sha256[:16])}</span></p>
{chain}
<p class="legend">{legend}</p>
<div class="tools">
<button type="button" id="lang-switch" data-zh="English" data-en="中文">English</button>
<input type="search" id="search" placeholder="搜索 / search" autocomplete="off"
 aria-label="search">
<ul id="search-results"></ul>
</div>
</header>
<nav><ol class="toc">{toc}</ol></nav>
<main>{articles}</main>
<script type="application/json" id="search-index">{script_json(search_index(explorer))}</script>
<script src="explorer.js"></script>
</body>
</html>
"""


STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; margin: 0 auto;
  max-width: 72rem; padding: 1rem 2rem; color: #1b1b1b; background: #fff; line-height: 1.5; }
html:not(.lang-en) .en, html.lang-en .zh { display: none; }
header { border-bottom: 2px solid #8b0000; margin-bottom: 1rem; }
h1 { color: #8b0000; }
.where { color: #666; font-family: monospace; font-size: 0.85em; }
.tools { position: relative; margin: 0.5rem 0 1rem; }
#search { width: 24rem; padding: 0.3rem; }
#search-results { list-style: none; padding: 0; margin: 0; max-height: 20rem; overflow: auto;
  background: #fffdf5; }
#search-results li { padding: 0.1rem 0.3rem; }
.toc { columns: 2; }
.policy-article { border-top: 1px solid #ccc; padding-top: 0.5rem; }
.article-text { background: #f6f3ea; border-left: 4px solid #8b0000; margin: 0.5rem 0;
  padding: 0.5rem 1rem; white-space: pre-wrap; }
.item { border: 1px solid #ddd; border-radius: 4px; margin: 0.75rem 0 0.75rem 1.5rem;
  padding: 0.25rem 0.75rem; }
.item h3 { font-size: 1rem; margin: 0.25rem 0; }
.kind { color: #555; font-weight: normal; }
.basis { border-radius: 3px; font-size: 0.8em; padding: 0 0.3rem; background: #e3ecf7; }
.basis-interpretation .basis, .legend .basis-interpretation { background: #fbe3c0; }
.basis-law .basis, .legend .basis-law { background: #dcefd9; }
.origin { background: #f7d7d7; border-radius: 3px; font-size: 0.8em; padding: 0 0.3rem; }
.code div { font-family: monospace; margin: 0.1rem 0; }
.code .label { color: #8b0000; display: inline-block; min-width: 5rem; }
.str { color: #2a6f2a; }
table.values { border-collapse: collapse; margin: 0.25rem 0; }
table.values td, table.values th { border: 1px solid #ccc; padding: 0.1rem 0.4rem; }
.overrides { background: #fff3f3; }
:target { outline: 3px solid #e0a800; }
"""

SCRIPT = """
"use strict";
(function () {
  var root = document.documentElement;
  var button = document.getElementById("lang-switch");
  function setLanguage(lang) {
    root.classList.toggle("lang-en", lang === "en");
    root.setAttribute("lang", lang);
    button.textContent = button.getAttribute(lang === "en" ? "data-en" : "data-zh");
  }
  button.addEventListener("click", function () {
    setLanguage(root.classList.contains("lang-en") ? "zh" : "en");
  });
  var index = JSON.parse(document.getElementById("search-index").textContent);
  var input = document.getElementById("search");
  var results = document.getElementById("search-results");
  input.addEventListener("input", function () {
    var query = input.value.trim().toLowerCase();
    while (results.firstChild) { results.removeChild(results.firstChild); }
    if (!query) { return; }
    var english = root.classList.contains("lang-en");
    index.filter(function (entry) {
      return (entry.n + " " + entry.zh + " " + entry.en).toLowerCase().indexOf(query) >= 0;
    }).slice(0, 50).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + entry.a;
      link.textContent = entry.n + " — " + ((english && entry.en) || entry.zh);
      item.appendChild(link);
      results.appendChild(item);
    });
  });
})();
"""


def site_files(explorer: Explorer) -> dict[str, str]:
    """The explorer's files by name: the page, its style sheet and its script."""
    return {"index.html": render_index(explorer), "explorer.css": STYLE.lstrip(),
            "explorer.js": SCRIPT.lstrip()}
