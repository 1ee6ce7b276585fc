"""Figures are written where the lab says and shown once in a notebook."""

import io

import matplotlib.pyplot as plt

from lib.plots import save_figure


def test_save_figure_writes_png_and_svg_then_closes_the_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert save_figure(fig, "line") is fig  # returned, so a plotting cell can be one line
    paths = [tmp_path / "line.png", tmp_path / "line.svg"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert fig.number not in plt.get_fignums()  # the inline backend will not draw it a second time
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # a closed figure still renders, so a cell ending in `fig` shows it
    assert buf.getvalue().startswith(b"\x89PNG")
