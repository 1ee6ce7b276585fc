"""Notebook 03's compute-matched comparison: every model on one FLOPs axis, on the same graphs."""

import numpy as np
import pandas as pd

from lib.experiments import regularization
from lib.flops import flops_per_graph
from lib.samplers import sample_split
from lib.models.train import train


def test_tied_and_untied_models_share_one_flops_axis_with_dijkstra_beside(one_thread):
    cfg = regularization.PROFILES["smoke"]
    confs = regularization.configurations(cfg)
    runs = {name: [train(confs[name], progress=False)] for name in ("tied", "untied shallow")}
    splits = (regularization.ID_SPLIT, *cfg.ood_splits)
    iters = pd.DataFrame([{"model": "tied", "seed": 0, "split": s, "iterations": k, "pointer_accuracy": 0.1 * k}
                          for s in splits for k in (1, 2, 4)])
    results = pd.DataFrame([{"config": "untied shallow", "seed": 0, "id_acc": 0.5,
                             **{f"ood:{s}_acc": 0.25 for s in cfg.ood_splits}}])
    pts = regularization.compute_matched(results, iters, runs, cfg, configs=("tied", "untied shallow"), flop_graphs=2)
    assert set(pts.split) == set(splits)
    for split in splits:
        d = pts[pts.split == split]
        tied = d[d.config == "tied"].sort_values("iterations")
        steps = np.diff(tied.flops.to_numpy())
        assert (steps > 0).all()  # each iteration costs FLOPs: one more round of the shared block
        graphs = sample_split(split, 2)
        direct = flops_per_graph(runs["tied"][0].model("cpu"), graphs, iterations=4)
        assert np.isclose(tied.flops.iloc[-1], direct)  # counted at T = 1, 2 and extended: the count at T = 4
        assert list(tied.pointer_accuracy) == [0.1, 0.2, 0.4]
        untied = d[d.config == "untied shallow"]
        assert len(untied) == 1 and untied.pointer_accuracy.iloc[0] == (0.5 if split == regularization.ID_SPLIT
                                                                         else 0.25)
        assert (tied.parameters == runs["tied"][0].metrics["parameters"]).all()
        dijkstra = d[d.config.str.startswith("Dijkstra")]
        assert len(dijkstra) == 1 and 0 < dijkstra.flops.iloc[0] < tied.flops.min()


def test_tied_curves_read_one_loop_per_split_with_the_numbers_of_each_count_run_apart(tmp_path, one_thread):
    from lib.runs import RunCache

    cfg = regularization.PROFILES["smoke"]
    tied = regularization.configurations(cfg)["tied"]
    curves = regularization.iteration_curves({"tied": [train(tied, RunCache(tmp_path / "a"), progress=False)]}, cfg)
    assert len(curves) == len(cfg.iterations) * (1 + len(cfg.ood_splits))
    apart = train(tied, RunCache(tmp_path / "b"), progress=False)  # the same weights, no cached evaluations
    for row in curves.itertuples():
        m = apart.evaluate(row.split, cfg.eval_graphs, device=cfg.device, iterations=row.iterations)
        assert (row.pointer_accuracy, row.exact_match) == (m["pointer_accuracy"], m["exact_match"])
