"""The one-page HTML report: contents with working anchors, folded inputs, inline figures,
nothing loaded from the network; and (marked browser) it renders in Chromium without errors."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lib.html_report import build_html_report, is_executed, main
from lib.notebook_runner import notebook_paths

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _tiny_png() -> str:
    """A 2x2 PNG, base64, as a notebook output carries it."""
    import io

    import matplotlib.pyplot as plt
    import numpy as np

    buf = io.BytesIO()
    plt.imsave(buf, np.zeros((2, 2, 3)), format="png")
    return base64.b64encode(buf.getvalue()).decode()


TINY_PNG = _tiny_png()


def executed_notebooks() -> list[Path]:
    return [p for p in notebook_paths() if is_executed(nbformat.read(p, as_version=4))]


@pytest.fixture(scope="module")
def committed_report(tmp_path_factory) -> tuple[Path, BeautifulSoup]:
    """The report built from the checkout's numbered notebooks."""
    if not executed_notebooks():
        pytest.skip("no executed numbered notebook in notebooks/ (run `make report`)")
    out = tmp_path_factory.mktemp("report") / "index.html"
    assert build_html_report(out=out, quiet=True) == out
    return out, BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")


def ids_of(soup) -> set[str]:
    return {el["id"] for el in soup.find_all(id=True)}


def assert_links_resolve(soup) -> int:
    """Every ``#anchor`` link names an element id; returns how many there are."""
    ids = ids_of(soup)
    internal = [a["href"] for a in soup.find_all("a", href=True) if a["href"].startswith("#")]
    broken = sorted({h for h in internal if unquote(h[1:]) not in ids})
    assert not broken, f"{len(broken)} internal links point nowhere: {broken[:10]}"
    return len(internal)


def assert_images_load(soup, out: Path) -> int:
    """Every <img> carries decodable image data or names a file beside the page; returns the count."""
    imgs = soup.find_all("img")
    for img in imgs:
        src = img.get("src", "")
        if src.startswith("data:"):
            header, _, payload = src.partition(",")
            assert header.startswith("data:image/") and header.endswith(";base64"), header[:60]
            data = base64.b64decode(payload, validate=True)
            assert len(data) > 0
            if header.startswith("data:image/png"):
                assert data.startswith(PNG_MAGIC)
        else:
            assert src and (out.parent / unquote(src)).is_file(), f"image {src!r} has no data and no file"
    return len(imgs)


def image_outputs(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(any(k.startswith("image/") for k in o.get("data", {}))
               for c in nb.cells if c.cell_type == "code" for o in c.outputs)


# -- the committed notebooks ------------------------------------------------------------------

def test_every_internal_link_resolves(committed_report):
    _, soup = committed_report
    assert assert_links_resolve(soup) > len(executed_notebooks())  # at least the contents


def test_contents_list_every_notebook_and_its_headings(committed_report):
    _, soup = committed_report
    toc = soup.find(id="lab-toc")
    toc_text = " ".join(a.get_text(" ", strip=True) for a in toc.find_all("a"))
    for path in notebook_paths():
        section = soup.find("section", id=f"nb-{path.stem}")
        nb = nbformat.read(path, as_version=4)
        if not is_executed(nb):
            assert section is None and path.stem in toc.get_text(), f"{path.stem} should be listed as not executed"
            continue
        assert section is not None and toc.find("a", href=f"#nb-{path.stem}") is not None
        for cell in (c for c in nb.cells if c.cell_type == "markdown"):
            for heading in re.findall(r"^## +(.+?)\s*$", cell.source, flags=re.M):
                plain = re.sub(r"[*_`]", "", heading)
                assert plain in toc_text, f"{path.stem}: heading {plain!r} missing from the contents"


def test_figures_are_inline(committed_report):
    out, soup = committed_report
    n = assert_images_load(soup, out)
    assert n >= sum(image_outputs(p) for p in executed_notebooks())
    assert not soup.find_all("img", src=re.compile(r"^https?:"))


def test_inputs_fold_and_outputs_stay_visible(committed_report):
    _, soup = committed_report
    for path in executed_notebooks():
        section = soup.find("section", id=f"nb-{path.stem}")
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        folded = section.select("details.lab-input")
        assert len(folded) == len(code), path.stem
        assert all(d.find(class_="jp-InputArea") is not None and not d.has_attr("open") for d in folded)
        assert not any(o.find_parent("details") for o in section.select(".jp-OutputArea"))


def test_page_loads_nothing_from_the_network(committed_report):
    _, soup = committed_report
    external = [str(t)[:80] for t in soup.find_all(["script", "link", "img", "iframe"])
                if re.match(r"^(https?:)?//", t.get("src") or t.get("href") or "")]
    assert not external, external
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", str(soup))


# -- synthetic notebooks: namespacing, cross-notebook links, widgets, skipping ---------------

def _executed(cells, **metadata):
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "py"}, **metadata})
    for i, c in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
        c.execution_count = i
    return nb


@pytest.fixture
def synthetic(tmp_path) -> list[Path]:
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "fig.png").write_bytes(base64.b64decode(TINY_PNG))
    a = _executed([
        new_markdown_cell("# 10 · First\n\nIntro, see [the second](11_second.ipynb#Summary) and "
                          "[its top](11_second.ipynb).\n\n## Summary\n\n[up](#10-·-First)"),
        new_code_cell("x = 1", outputs=[new_output("display_data", data={"image/png": TINY_PNG, "text/plain": "f"})]),
        new_markdown_cell("![a figure](../figures/fig.png)"),
        new_code_cell("w", outputs=[new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "VBox()"})]),
    ], widgets={"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2, "version_minor": 0}})
    b = _executed([new_markdown_cell("# 11 · Second\n\n## Summary\n\n### Detail"), new_code_cell("y = 2")])
    stub = new_notebook(cells=[new_markdown_cell("# 12 · Stub"), new_code_cell("z = 3")])
    paths = [nbdir / "10_first.ipynb", nbdir / "11_second.ipynb", nbdir / "12_stub.ipynb"]
    for p, nb in zip(paths, (a, b, stub)):
        nbformat.write(nb, p)
    return paths


def test_ids_are_namespaced_per_notebook_and_links_follow(synthetic, tmp_path):
    out = build_html_report(synthetic, tmp_path / "site" / "index.html", quiet=True)
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert_links_resolve(soup)
    ids = ids_of(soup)
    assert {"nb-10_first--Summary", "nb-11_second--Summary", "nb-11_second--Detail"} <= ids  # same heading, two ids
    first = soup.find("section", id="nb-10_first")
    hrefs = [a["href"] for a in first.find_all("a", href=True) if not a.get("class") == ["anchor-link"]]
    assert "#nb-11_second--Summary" in hrefs and "#nb-11_second" in hrefs  # .ipynb links became anchors
    assert "#nb-10_first--10-·-First" in hrefs  # an in-notebook link follows its heading's new id
    toc = soup.find(id="lab-toc")
    assert [a.get_text() for a in toc.find_all("a")] == ["10 · First", "Summary", "11 · Second", "Summary", "Detail"]


def test_figures_from_files_are_embedded_and_widgets_become_a_note(synthetic, tmp_path):
    out = build_html_report(synthetic[:1], tmp_path / "deep" / "er" / "index.html", quiet=True)
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert assert_images_load(soup, out) == 2
    assert all(img["src"].startswith("data:image/png;base64,") for img in soup.find_all("img"))
    assert soup.find(class_="lab-widget-note") is not None
    assert "widget-state" not in out.read_text() and not soup.find_all("script", src=True)


def test_unexecuted_notebooks_are_listed_not_rendered(synthetic, tmp_path):
    soup = BeautifulSoup(build_html_report(synthetic, tmp_path / "i.html", quiet=True).read_text(), "html.parser")
    assert soup.find("section", id="nb-12_stub") is None
    assert "12_stub (not executed yet)" in soup.find(id="lab-toc").get_text()
    with pytest.raises(ValueError, match="no executed notebook"):
        build_html_report(synthetic[2:], tmp_path / "none.html", quiet=True)


def test_cli(synthetic, tmp_path, capsys):
    out = tmp_path / "cli" / "index.html"
    assert main(["--nb", f"{synthetic[0]},{synthetic[1]}", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000 and out.stat().st_mode & 0o044
    assert main(["--nb", str(tmp_path / "missing.ipynb"), "--out", str(out)]) == 2
    assert "missing.ipynb" in capsys.readouterr().err


# -- in a browser -----------------------------------------------------------------------------

def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.browser
def test_report_renders_in_chromium_without_errors(committed_report, tmp_path):
    from test_browser import chromium, require_browser

    require_browser()
    out, soup = committed_report
    console: list[tuple[str, str]] = []
    shot = tmp_path / "report.png"
    with chromium(console) as page:
        page.goto(out.as_uri(), wait_until="load")
        page.screenshot(path=str(shot))
        target = soup.select("#lab-toc ul a")[-1]["href"]  # the last heading, far down the page
        assert page.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top > innerHeight",
                             unquote(target[1:]))
        page.locator("#lab-toc ul a").last.click()  # scrolls it into view
        page.wait_for_function("(id) => { const r = document.getElementById(id).getBoundingClientRect();"
                               " return decodeURIComponent(location.hash) === '#' + id && r.top >= -1 &&"
                               " r.top < innerHeight; }", arg=unquote(target[1:]), timeout=5000)
        folded = page.evaluate("() => [...document.querySelectorAll('details.lab-input')].filter(d => d.open).length")
        page.click("#lab-toc button:text('show code')")
        opened = page.evaluate("() => [...document.querySelectorAll('details.lab-input')].filter(d => d.open).length")
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.src.slice(0, 60))")
    errors = [(kind, text) for kind, text in console if kind in ("error", "pageerror")]
    assert not errors, errors
    assert not broken, f"images that did not decode: {broken}"
    assert folded == 0 and opened == len(soup.select("details.lab-input")) > 0
    assert _png_size(shot.read_bytes()) == (1280, 900) and shot.stat().st_size > 20_000


def test_output_ids_are_kept_for_their_css(tmp_path):
    """A pandas Styler table is styled by id: the page must keep output ids as they are."""
    pd = pytest.importorskip("pandas")
    styled = pd.DataFrame({"a": [1, 2]}).style.highlight_max(color="red").to_html()
    table_id = re.search(r'<table id="([^"]+)"', styled).group(1)
    nb = _executed([new_markdown_cell("# Styled"), new_code_cell("df", outputs=[new_output(
        "execute_result", data={"text/html": styled, "text/plain": "df"}, execution_count=1)])])
    path = tmp_path / "20_styled.ipynb"
    nbformat.write(nb, path)
    soup = BeautifulSoup(build_html_report([path], tmp_path / "i.html", quiet=True).read_text(), "html.parser")
    assert soup.find("table", id=table_id) is not None and f"#{table_id}" in soup.find("style", string=re.compile(
        re.escape(table_id))).string
