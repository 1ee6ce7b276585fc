"""The report as one self-contained HTML page, for readers without Jupyter.

``build_html_report()`` renders every executed numbered notebook (``notebooks/NN_*.ipynb``)
with nbconvert's HTML exporter (lab template) and joins them into one file: a table of
contents (notebooks and their markdown headings), code inputs folded in ``<details>``,
figures inline as base64 images. The page loads nothing from the network: no require.js, no
MathJax (the notebooks use no math; pass ``mathjax=True`` to load it from its CDN), and
widget outputs become a note pointing at the live app, since their JavaScript would need one.

    python -m lib.html_report                      # report/index.html from all executed notebooks
    python -m lib.html_report --nb 00 --out x.html
"""

from __future__ import annotations

import argparse
import base64
import copy
import html
import mimetypes
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from .notebook_runner import find_notebook, notebook_paths
from .paths import ROOT

DEFAULT_OUT = Path("report/index.html")
TITLE = "dijkstra-lab: can a network learn Dijkstra?"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("<p class=\"lab-widget-note\"><em>Interactive view: it needs a live kernel. Open the notebook in "
               "JupyterLab (<code>make lab</code>) or the app (<code>voila apps/search_explorer.ipynb</code>)."
               "</em></p>")

#: A lab-template extension: a code cell's input folds into <details> (closed by default).
_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}
{%- if resources.lab_mathjax -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block input_group -%}
{%- if cell.cell_type == 'code' -%}
<details class="lab-input"><summary>code{% if cell.execution_count %} [{{ cell.execution_count }}]{% endif %}</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock input_group %}
"""

_PAGE_CSS = """
body.jp-Notebook { margin: 0; padding: 0; }
#lab-toc { position: fixed; top: 0; left: 0; bottom: 0; width: 19rem; overflow-y: auto; padding: 1rem 1rem 2rem;
  box-sizing: border-box; border-right: 1px solid #ddd; background: #fafafa; font: 13px/1.45 system-ui, sans-serif; }
#lab-toc h2 { font-size: 15px; margin: 0 0 .5rem; }
#lab-toc ol, #lab-toc ul { padding-left: 1.1rem; margin: .2rem 0; }
#lab-toc li { margin: .15rem 0; }
#lab-toc .lab-missing { color: #888; }
#lab-toc button { font: inherit; margin: 0 .3rem .6rem 0; }
#lab-content { margin-left: 19rem; padding: 1rem 2rem 4rem; max-width: 70rem; }
section.lab-notebook { border-top: 3px solid #ccc; padding-top: 1rem; margin-top: 2rem; }
.lab-source { color: #666; font: 12px system-ui, sans-serif; }
details.lab-input > summary { cursor: pointer; color: #666; font: 12px monospace; margin: .2rem 0; }
@media (max-width: 900px) { #lab-toc { position: static; width: auto; border: 0; } #lab-content { margin: 0; } }
@media print { #lab-toc { display: none; } #lab-content { margin: 0; } details.lab-input { display: none; } }
"""

_PAGE_JS = """
function labToggleCode(open) {
  document.querySelectorAll('details.lab-input').forEach(function (d) { d.open = open; });
}
"""


@dataclass
class RenderedNotebook:
    """One notebook rendered for the page."""

    path: Path
    anchor: str
    title: str
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # (level, text, anchor)
    body: str = ""
    profile: str | None = None


def default_notebooks() -> list[Path]:
    """The numbered report notebooks, in order."""
    return notebook_paths()


def resolve_notebooks(notebooks) -> list[Path]:
    """Paths from paths or keys (``"00"`` or ``"00_the_task"``, as ``make report NB=`` takes)."""
    if notebooks is None:
        return default_notebooks()
    out = []
    for nb in notebooks:
        p = Path(nb)
        out.append(p if p.suffix == ".ipynb" or p.exists() else find_notebook(str(nb)))
    missing = [str(p) for p in out if not p.exists()]
    if missing:
        raise FileNotFoundError(f"no such notebook(s): {missing}")
    return out


def is_executed(nb) -> bool:
    """Every code cell with source has an execution count (papermill's executed report does)."""
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    return bool(code) and all(c.get("execution_count") is not None for c in code)


def prepare(nb):
    """A copy ready for export: widget outputs become a note, widget state goes, and cells
    tagged ``remove_cell`` go."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove_cell", "remove-cell"}:
            continue
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if WIDGET_VIEW in data:
                    out["data"] = {"text/html": WIDGET_NOTE, "text/plain": data.get("text/plain", "[widget]")}
        cells.append(cell)
    nb.cells = cells
    return nb


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"lab_report.html.j2": _TEMPLATE})],
                            template_file="lab_report.html.j2", embed_images=True)
    return exporter


def _local_target(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("#", "/", "data:"))


def render_notebook(path: Path, exporter, out_dir: Path, anchors: dict[str, str],
                    mathjax: bool = False) -> tuple[RenderedNotebook, list[str]]:
    """Export one notebook; namespace its markdown ids under its own anchor, rewrite its links
    (``#heading``, ``other.ipynb#heading``, relative files) for a page in ``out_dir``.
    Returns the rendering and the page's <style> blocks."""
    from bs4 import BeautifulSoup

    path = Path(path)
    nb = prepare(nbformat.read(path, as_version=4))
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)}, "lab_mathjax": mathjax}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    soup = BeautifulSoup(body, "html.parser")
    styles = [str(s) for s in soup.head.find_all("style")] if soup.head else []
    if mathjax and soup.head:
        styles += [str(s) for s in soup.head.find_all("script")]
    main = soup.find("main") or soup.body
    anchor = anchors[path.stem]

    # Headings get ids from their text, so two notebooks' "Summary" would clash: namespace the
    # ids in markdown cells (outputs keep theirs: a pandas Styler's CSS selects its table by id).
    ids: dict[str, str] = {}  # old id (as written, and percent-decoded) -> new id
    taken: set[str] = set()
    for el in main.select(".jp-MarkdownCell [id]"):
        old = el["id"]
        new = base = f"{anchor}--{unquote(old)}"
        k = 2
        while new in taken:
            new, k = f"{base}-{k}", k + 1
        taken.add(new)
        ids.setdefault(old, new)
        ids.setdefault(unquote(old), new)
        el["id"] = new
    for a in main.find_all("a", href=True):
        href = a["href"]
        if href.startswith("#"):
            target = ids.get(href[1:]) or ids.get(unquote(href[1:]))
            if target:
                a["href"] = "#" + target
            continue
        if not _local_target(href):
            continue
        parts = urlsplit(href)
        target_path = (path.parent / unquote(parts.path)).resolve()
        if target_path.suffix == ".ipynb" and target_path.stem in anchors:
            frag = unquote(parts.fragment)
            a["href"] = "#" + (f"{anchors[target_path.stem]}--{frag}" if frag else anchors[target_path.stem])
        else:
            a["href"] = os.path.relpath(target_path, out_dir) + (f"#{parts.fragment}" if parts.fragment else "")
    for img in main.find_all("img", src=True):  # nbconvert embeds only files below the notebook's folder
        if _local_target(img["src"]):
            file = (path.parent / unquote(urlsplit(img["src"]).path)).resolve()
            mime = mimetypes.guess_type(file.name)[0] or ""
            if file.is_file() and mime.startswith("image/"):
                img["src"] = f"data:{mime};base64," + base64.b64encode(file.read_bytes()).decode("ascii")
            else:
                img["src"] = os.path.relpath(file, out_dir)

    headings = []
    for h in main.select(".jp-MarkdownCell h1[id], .jp-MarkdownCell h2[id], .jp-MarkdownCell h3[id]"):
        text = " ".join(t for t in h.find_all(string=True) if t.parent.name != "a" or "anchor-link" not in
                        t.parent.get("class", [])).strip()
        if text:
            headings.append((int(h.name[1]), re.sub(r"\s+", " ", text), h["id"]))
    title = next((t for lvl, t, _ in headings if lvl == 1), path.stem)
    profile = (nb.metadata.get("papermill", {}).get("parameters") or {}).get("profile")
    inner = "".join(str(c) for c in main.contents)
    return RenderedNotebook(path, anchor, title, headings, inner, profile), styles


def _display_path(path: Path) -> str:
    """A notebook's path as a reader knows it: relative to the project root when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _toc(rendered: list[RenderedNotebook], skipped: list[Path]) -> str:
    """The contents: one entry per notebook, its h2 headings under it, h3 under those."""
    def link(anchor, text):
        return f'<a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a>'

    items = []
    for r in rendered:
        subs: list[list[str]] = []  # [h2 link, h3 links...]
        for level, text, anchor in r.headings:
            if level == 2:
                subs.append([link(anchor, text)])
            elif level == 3 and subs:
                subs[-1].append(link(anchor, text))
        inner = "".join(f"<li>{s[0]}" + (f"<ul>{''.join(f'<li>{x}</li>' for x in s[1:])}</ul>" if s[1:] else "")
                        + "</li>" for s in subs)
        items.append(f"<li>{link(r.anchor, r.title)}" + (f"<ul>{inner}</ul>" if inner else "") + "</li>")
    items += [f'<li class="lab-missing">{html.escape(p.stem)} (not executed yet)</li>' for p in skipped]
    return ("<nav id=\"lab-toc\"><h2>Contents</h2>"
            "<button type=\"button\" onclick=\"labToggleCode(true)\">show code</button>"
            "<button type=\"button\" onclick=\"labToggleCode(false)\">hide code</button>"
            f"<ol>{''.join(items)}</ol></nav>")


def build_html_report(notebooks=None, out: Path | str = DEFAULT_OUT, title: str = TITLE, mathjax: bool = False,
                      quiet: bool = False) -> Path:
    """Render the executed numbered notebooks into one self-contained HTML page; returns its path.

    ``notebooks``: paths or keys (``"00"``); default every ``notebooks/NN_*.ipynb``. Notebooks
    that have not been executed are listed in the contents as such, not rendered. A relative
    ``out`` is taken from the project root. The file is written atomically.
    """
    paths = resolve_notebooks(notebooks)
    out = Path(out)
    out = out if out.is_absolute() else ROOT / out
    out_dir = out.parent.resolve()
    executed, skipped = [], []
    for p in paths:
        (executed if is_executed(nbformat.read(p, as_version=4)) else skipped).append(p)
    if not executed:
        raise ValueError("no executed notebook to render among " + ", ".join(p.name for p in paths)
                         + " (run `make report` first)")
    anchors = {p.stem: f"nb-{p.stem}" for p in executed}
    exporter = _exporter()
    rendered, styles = [], []
    t0 = time.perf_counter()
    for i, p in enumerate(executed, 1):
        r, st = render_notebook(p, exporter, out_dir, anchors, mathjax)
        rendered.append(r)
        styles = styles or st
        if not quiet:
            print(f"[html {i}/{len(executed)}] {p.stem}: {len(r.headings)} headings", file=sys.stderr)
    sections = []
    for r in rendered:
        src = _display_path(r.path)
        meta = f"{html.escape(src)}" + (f" · executed with profile <code>{html.escape(r.profile)}</code>"
                                        if r.profile else "")
        sections.append(f'<section class="lab-notebook" id="{r.anchor}"><p class="lab-source">{meta}</p>'
                        f"{r.body}</section>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
            f"<title>{html.escape(title)}</title>\n{''.join(styles)}\n<style>{_PAGE_CSS}</style>\n"
            f"<script>{_PAGE_JS}</script>\n</head>\n"
            "<body class=\"jp-Notebook\" data-jp-theme-light=\"true\" data-jp-theme-name=\"JupyterLab Light\">\n"
            f"{_toc(rendered, skipped)}\n<div id=\"lab-content\"><h1 class=\"lab-title\">{html.escape(title)}</h1>\n"
            + "\n".join(sections) + "\n</div>\n</body>\n</html>\n")
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if not quiet:
        print(f"[html] {out} ({len(page) / 1e6:.1f} MB, {len(rendered)} notebooks, "
              f"{time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return out


def main(argv=None) -> int:
    """``python -m lib.html_report [--nb 00,01] [--out report/index.html] [--mathjax]``."""
    parser = argparse.ArgumentParser(prog="python -m lib.html_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--nb", action="append", default=None,
                        help="notebook number or stem (repeatable, or a comma list)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the page to write (default %(default)s)")
    parser.add_argument("--title", default=TITLE, help="page title")
    parser.add_argument("--mathjax", action="store_true", help="load MathJax from its CDN (needs network to view)")
    args = parser.parse_args(argv)
    nbs = [k for arg in args.nb for k in arg.split(",") if k] if args.nb else None
    try:
        build_html_report(nbs, args.out, args.title, args.mathjax)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err.args[0] if isinstance(err, KeyError) and err.args else err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
