"""Interactive views for the notebooks. Each slider wraps a pure function that returns a
`Figure`, so the same view renders statically in the report and live in JupyterLab.

The search explorer runs a search once per (step size, noise) setting and caches the
trajectory; moving the step slider only redraws.
"""

from __future__ import annotations

import html
from dataclasses import replace
from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .graphs import Graph
from .metrics import Prediction
from .oracle import dijkstra, pointer_correct, verify
from .plots.figures import PALETTE
from .plots.graphs import draw_graph, graph_layout
from .energy.candidates import decode
from .search.trajectory import Trajectory


@lru_cache(maxsize=64)
def _layout(graph: Graph):
    return graph_layout(graph)


def render_search_step(graph: Graph, trajectory: Trajectory, predictions: list[Prediction], t: int,
                       title: str = "") -> Figure:
    """One step of a search on one graph: the decoded tree (wrong pointers in red) beside the
    energy curve with a marker at step ``t``.

    ``predictions[t]`` is the decoded candidate at step t; ``trajectory.energies[:, 0]`` the
    energy curve (the graph is batch element 0).
    """
    t = int(np.clip(t, 0, trajectory.steps))
    pred = predictions[t]
    dist, _ = dijkstra(graph)
    wrong = ~pointer_correct(graph, pred.pi, dist)
    wrong[graph.source] = False
    fig, (ax_g, ax_e) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    draw_graph(graph, pred.pi, ax=ax_g, wrong=wrong, pos=_layout(graph), node_size=45 if graph.num_nodes > 30 else 70)
    v = verify(graph, pred.pi)
    ax_g.set_title(f"step {t}: {int(wrong.sum())} wrong pointers (red), {v.num_violations} Bellman violations",
                   fontsize=10)
    energies = trajectory.energies[:, 0].cpu().numpy()
    ax_e.plot(np.arange(len(energies)), energies, color=PALETTE[0], label="learned energy")
    ax_e.scatter([t], [energies[t]], color="#d62728", zorder=3, s=50, label=f"step {t}")
    errs = [int((~pointer_correct(graph, p.pi, dist))[np.arange(graph.num_nodes) != graph.source].sum())
            for p in predictions]
    ax2 = ax_e.twinx()
    ax2.step(np.arange(len(errs)), errs, where="post", color="grey", alpha=0.6, label="wrong pointers")
    ax2.set_ylabel("wrong pointers (grey)")
    ax2.spines["right"].set_visible(True)
    ax_e.set_xlabel("search step")
    ax_e.set_ylabel("energy")
    ax_e.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax_e.set_title("energy along the search", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


class SearchExplorer:
    """Search one graph with an energy solver; cache a trajectory per (step size, noise)."""

    def __init__(self, solver, graph: Graph):
        self.solver, self.graph, self._decode = solver, graph, decode
        self._cache: dict[tuple, tuple[Trajectory, list[Prediction]]] = {}

    def run(self, lr: float | None = None, noise: float | None = None) -> tuple[Trajectory, list[Prediction]]:
        key = (lr, noise)
        if key not in self._cache:
            base = self.solver.settings
            settings = replace(base, lr=base.lr if lr is None else lr, noise=base.noise if noise is None else noise,
                               routine="langevin" if noise else base.routine)
            old, self.solver.settings = self.solver.settings, settings
            try:
                batch, traj = self.solver.trajectory([self.graph])
            finally:
                self.solver.settings = old
            preds = [self._decode(batch, self.solver.kind, y)[0] for y in traj.candidates]
            self._cache[key] = (traj, preds)
        return self._cache[key]

    def figure(self, t: int, lr: float | None = None, noise: float | None = None) -> Figure:
        if lr is not None and abs(lr - float(getattr(self.solver.model, "step_size", -1))) < 1e-4:
            lr = None  # the learned step: same cache entry as the default view
        traj, preds = self.run(lr, noise)
        label = f"{self.solver.name}: lr {'learned' if lr is None else lr}, noise {noise or 0}"
        return render_search_step(self.graph, traj, preds, t, title=label)

    def widget(self, lrs=(0.05, 0.1, 0.2, 0.4), noises=(0.0, 0.01, 0.05)):
        """Sliders: search step (redraw only), step size and noise (re-run, then cached); below
        them a status line (CSS class ``search-status``) that names the step drawn."""
        import ipywidgets as w
        from IPython.display import display

        steps = self.solver.settings.steps
        learned = float(getattr(self.solver.model, "step_size", 0.1))
        t = w.IntSlider(value=steps, min=0, max=steps, description="step", continuous_update=True)
        options = sorted({round(learned, 4), *lrs})
        # the slider's readout is narrow: the learned value is marked with a star and named below
        lr = w.SelectionSlider(options=[(f"{v:g}" + ("*" if v == round(learned, 4) else ""), v) for v in options],
                               value=round(learned, 4), description="step size")
        noise = w.SelectionSlider(options=[(str(v), v) for v in noises], description="noise")
        out = w.Output()
        status = w.HTML()
        status.add_class("search-status")
        note = w.HTML(f"<small>step size {round(learned, 4):g}* is the model's learned step.</small>")

        def redraw(*_):
            fig = self.figure(t.value, lr.value, noise.value or None)
            status.value = html.escape(fig.axes[0].get_title())
            with out:
                out.clear_output(wait=True)
                display(fig)
            plt.close(fig)

        for control in (t, lr, noise):
            control.observe(redraw, names="value")
        redraw()
        return w.VBox([w.HBox([t, lr, noise]), note, status, out])


class MovesExplorer:
    """Replay the parallel local search of `lib.search.parallel_moves` on one graph, one frame per
    round: the pointers read out at that round (wrong ones in red) beside the verifier's energy.
    The search runs once per start and is cached; moving the round slider only redraws."""

    def __init__(self, verifier, graph: Graph, name: str = "", seed: int = 0):
        self.verifier, self.graph, self.name, self.seed = verifier, graph, name, seed
        self._cache: dict[str, tuple[Trajectory, list[Prediction]]] = {}

    def run(self, start: str = "far") -> tuple[Trajectory, list[Prediction]]:
        if start not in self._cache:
            import torch

            from .batching import collate
            from .search.parallel_moves import parallel_descent, start_candidate
            batch = collate([self.graph], with_targets=False)
            found = parallel_descent(self.verifier, batch, start_candidate(batch, start, torch.Generator().manual_seed(
                self.seed)), record=True)
            preds = [Prediction(pi.numpy().astype(np.int64), y.numpy().astype(np.float64))
                     for pi, y in zip(found.parents, found.states)]
            traj = Trajectory(found.states, torch.stack(found.energies).reshape(len(found.states), 1))
            self._cache[start] = (traj, preds)
        return self._cache[start]

    def figure(self, t: int, start: str = "far") -> Figure:
        traj, preds = self.run(start)
        return render_search_step(self.graph, traj, preds, t, title=f"{self.name}: parallel parent moves, {start} start"
                                  f" (round {min(t, traj.steps)} of {traj.steps})")

    def widget(self, starts=("far", "random")):
        """A round slider (redraw only) and a start selector (one search per start, then cached)."""
        import ipywidgets as w
        from IPython.display import display

        start = w.ToggleButtons(options=list(starts), description="start")
        t = w.IntSlider(value=0, min=0, max=self.run(starts[0])[0].steps, description="round")
        out, status = w.Output(), w.HTML()
        status.add_class("search-status")

        def redraw(*_):
            t.max = self.run(start.value)[0].steps
            fig = self.figure(t.value, start.value)
            status.value = html.escape(fig.axes[0].get_title())
            with out:
                out.clear_output(wait=True)
                display(fig)
            plt.close(fig)

        for control in (t, start):
            control.observe(redraw, names="value")
        redraw()
        return w.VBox([w.HBox([t, start]), status, out])
