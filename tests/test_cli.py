"""`python -m lib evaluate`: JSON on stdout, errors on stderr with a non-zero exit."""

import json
import subprocess
import sys

import pytest

from lib.cli import main
from lib.graphs import write_jsonl
from lib.samplers import sample_split


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_oracle_scores_one_on_clrs_reference(capsys, reference_files):
    code, out, err = run(capsys, "evaluate", "--solver", "oracle", "--data", str(reference_files[16]))
    result = json.loads(out)
    assert code == 0 and "warning" not in err and result["weights_outside_training_range"] == 0.0
    assert result["pointer_accuracy"] == 1.0 and result["exact_match"] == 1.0
    assert result["num_graphs"] == 128 and result["mean_num_nodes"] == 16.0
    assert result["file_pi_agreement"] == 1.0


@pytest.mark.parametrize("split", ["grid_64", "tree_64", "maze_64", "watts_strogatz_64", "delaunay_64"])
def test_oracle_scores_one_on_other_families(capsys, tmp_path, split):
    path = write_jsonl(sample_split(split, 5), tmp_path / f"{split}.jsonl.gz")
    code, out, _ = run(capsys, "evaluate", "--solver", "oracle", "--data", str(path))
    assert code == 0 and json.loads(out)["pointer_accuracy"] == 1.0


def test_oracle_scores_one_when_file_pi_picks_another_tie(capsys, tmp_path):
    e = [[0, 1, 1.0], [0, 2, 1.0], [1, 3, 1.0], [2, 3, 1.0]]
    rec = {"num_nodes": 4, "source": 0, "edges": e + [[v, u, w] for u, v, w in e], "pi": [0, 0, 0, 2]}
    path = tmp_path / "ties.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    code, out, _ = run(capsys, "evaluate", "--solver", "oracle", "--data", str(path))
    assert code == 0 and json.loads(out)["pointer_accuracy"] == 1.0


def test_weights_outside_the_training_range_are_reported_and_still_scored(capsys, tmp_path):
    rec = {"num_nodes": 3, "source": 0, "edges": [[0, 1, 1.5], [1, 2, 1.5], [0, 2, 0.5], [2, 0, 0.01]]}
    path = tmp_path / "heavy.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    code, out, err = run(capsys, "evaluate", "--solver", "oracle", "--data", str(path))
    assert code == 0 and json.loads(out)["pointer_accuracy"] == 1.0
    assert json.loads(out)["weights_outside_training_range"] == 0.75 and "outside the training range" in err


def test_rescale_brings_each_graph_into_the_training_range_and_keeps_its_tree(capsys, tmp_path):
    rec = {"num_nodes": 3, "source": 0, "edges": [[0, 1, 15.0], [1, 2, 15.0], [0, 2, 5.0], [2, 0, 0.5]], "pi": [0, 0, 0]}
    path = tmp_path / "heavy.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    code, out, err = run(capsys, "evaluate", "--solver", "oracle", "--data", str(path), "--rescale")
    result = json.loads(out)
    assert code == 0 and result["rescaled"] and result["exact_match"] == 1.0 and result["file_pi_agreement"] == 1.0
    assert result["weights_outside_training_range"] == 0.0 and "warning" not in err


def test_malformed_file_exits_nonzero_with_message(capsys, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"num_nodes": 2, "source": 0, "edges": [[0, 1, -1]]}\n')
    code, out, err = run(capsys, "evaluate", "--solver", "oracle", "--data", str(path))
    assert code == 2 and out == ""
    assert "line 1" in err and "edges[0][2]" in err and "non-negative" in err


def test_unknown_solver_and_missing_file(capsys, tmp_path, reference_files):
    code, _, err = run(capsys, "evaluate", "--solver", "dijkstar", "--data", str(reference_files[16]))
    assert code == 2 and "unknown solver 'dijkstar'" in err
    code, _, err = run(capsys, "evaluate", "--solver", "oracle", "--data", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "no such graph file" in err


def test_module_entry_point(reference_files):
    proc = subprocess.run([sys.executable, "-m", "lib", "evaluate", "--solver", "oracle", "--data",
                           str(reference_files[32])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pointer_accuracy"] == 1.0


def test_sweep_trains_presets_over_seeds_then_serves_them_from_the_cache(capsys):
    code, out, _ = run(capsys, "sweep", "--config", "tiny", "--seeds", "0,1", "--backend", "local", "--workers", "1")
    first = json.loads(out)
    assert code == 0 and [r["seed"] for r in first] == [0, 1] and len({r["name"] for r in first}) == 2
    code, out, _ = run(capsys, "sweep", "--config", "tiny", "--seeds", "1")
    assert code == 0 and json.loads(out)[0]["name"] == first[1]["name"]


@pytest.mark.parametrize("argv, message", [
    (["--config", "tiny", "--seeds", "0,x"], "--seeds must be comma-separated integers"),
    (["--config", "no_such_preset"], "unknown preset 'no_such_preset'"),
])
def test_sweep_bad_arguments_fail_clearly(capsys, argv, message):
    code, out, err = run(capsys, "sweep", *argv)
    assert code == 2 and out == "" and message in err


def test_evaluate_halts_a_recurrent_run_and_reports_its_iterations(capsys, tmp_path, one_thread):
    from lib.models.train import TrainConfig, train

    rec = train(TrainConfig(model="recurrent_gnn", model_args={"hidden": 8, "iterations": 2}, steps=3,
                            train_graphs=8, batch_size=4, eval_every=3, val_graphs=4), progress=False)
    path = write_jsonl(sample_split("maze_64", 3), tmp_path / "mazes.jsonl")
    code, out, _ = run(capsys, "evaluate", "--solver", rec.name, "--data", str(path), "--iterations", "1000",
                       "--halt")
    result = json.loads(out)
    assert code == 0 and 1 <= result["mean_iterations"] <= result["max_iterations"] <= 1000
    code, out, _ = run(capsys, "evaluate", "--solver", rec.name, "--data", str(path), "--iterations", "5")
    assert code == 0 and "mean_iterations" not in json.loads(out)
    plain = train(TrainConfig(model="gnn", model_args={"hidden": 8, "layers": 1}, steps=2, train_graphs=8,
                              batch_size=4, eval_every=2, val_graphs=4), progress=False)
    code, _, err = run(capsys, "evaluate", "--solver", plain.name, "--data", str(path), "--halt")
    assert code == 2 and "does not take --halt" in err


def test_evaluate_searches_with_a_verifier_run_from_a_chosen_start(capsys, tmp_path, one_thread):
    from lib.presets import preset
    from lib.run_kinds import train_any

    ver = train_any(preset("verifier_tiny"), progress=False)
    gen = train_any(preset("tiny"), progress=False)
    path = write_jsonl(sample_split("salsa_delaunay_160", 2), tmp_path / "sparse.jsonl")
    for start in ("far", "random", gen.name):
        code, out, _ = run(capsys, "evaluate", "--solver", ver.name, "--data", str(path), "--start", start)
        result = json.loads(out)
        assert code == 0 and result["num_graphs"] == 2 and result["max_iterations"] <= 160
    code, _, err = run(capsys, "evaluate", "--solver", ver.name, "--data", str(path), "--iterations", "3")
    assert code == 2 and "does not take --iterations" in err
    code, _, err = run(capsys, "evaluate", "--solver", ver.name, "--data", str(path), "--start", "nowhere")
    assert code == 2 and "unknown search start" in err
