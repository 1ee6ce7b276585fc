"""Figures are written where the lab says and shown once in a notebook."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lib.plots import save_figure


def test_save_figure_writes_png_and_svg_then_closes_the_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    ax.set_xlabel("x"), ax.set_ylabel("y")
    assert save_figure(fig, "line") is fig  # returned, so a plotting cell can be one line
    paths = [tmp_path / "line.png", tmp_path / "line.svg"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert fig.number not in plt.get_fignums()  # the inline backend will not draw it a second time
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # a closed figure still renders, so a cell ending in `fig` shows it
    assert buf.getvalue().startswith(b"\x89PNG")


def _figure(**kw):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0, 1, 2], label="a")
    ax.set_xlabel(kw.get("xlabel", "x")), ax.set_ylabel(kw.get("ylabel", "y"))
    return fig, ax


def test_check_figure_passes_a_labelled_figure_and_names_each_problem():
    from lib.plots.figures import check_figure

    fig, ax = _figure()
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    assert check_figure(fig) == []
    fig, ax = _figure(ylabel="")
    assert check_figure(fig) == ["axes 0: no y label"]
    fig, ax = _figure()
    ax.set_xscale("symlog")
    assert any("symlog x axis" in p for p in check_figure(fig))
    fig, ax = _figure()
    ax.plot([1.0] * 50, np.linspace(0.9, 1.1, 50), "o")  # points under a legend placed on them
    ax.legend(loc="center")
    assert any("legend covers" in p for p in check_figure(fig))
    plt.close("all")


def test_shared_axes_need_one_label_and_save_figure_refuses_an_unfit_figure(tmp_path, monkeypatch):
    from lib.plots.figures import check_figure

    monkeypatch.setenv("LAB_FIGURES_DIR", str(tmp_path))
    fig, axes = plt.subplots(1, 2, sharey=True)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")  # the second panel shares it
    assert check_figure(fig) == []
    axes[0].set_ylabel("")
    with pytest.raises(ValueError, match="not fit to save.*no y label"):
        save_figure(fig, "bad")
    assert not list(tmp_path.iterdir())


def test_zero_budget_is_drawn_on_a_log_axis_not_symlog():
    import pandas as pd

    from lib.plots import plot_accuracy_vs_iterations
    from lib.plots.figures import check_figure

    curves = pd.DataFrame({"model": "m", "split": "s", "seed": [0, 0, 0, 1, 1, 1], "iterations": [0, 4, 16] * 2,
                           "pointer_accuracy": [0.1, 0.5, 0.9, 0.2, 0.6, 0.8], "looped": True,
                           "trained_iterations": 4})
    fig = plot_accuracy_vs_iterations(curves)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["0", "4", "16"]
    assert check_figure(fig) == []
    assert any("trained at 4" in t.get_text() for t in ax.get_legend().get_texts())
    plt.close("all")
