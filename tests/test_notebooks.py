"""Notebook machinery: one parameters cell each, profiles that match, the runner's checks."""

import json

import pytest

from lib.experiments import PROFILE_NAMES, REQUIRED_PROFILES
from lib.experiments.notebooks import NOTEBOOK_EXPERIMENTS
from lib.notebook_runner import (check_parameters, notebook_parameters, notebook_paths, parse_parameters,
                                 profile_parameters, strip_volatile)

NOTEBOOKS = notebook_paths()
PROFILES = list(PROFILE_NAMES)


def test_there_are_notebooks_and_profiles():
    assert NOTEBOOKS and {"full", "smoke"} <= set(PROFILES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exactly_one_parameters_cell_with_typed_documented_literals(path):
    params = notebook_parameters(path)
    assert "profile" in params and params["profile"].default == "full"
    for p in params.values():
        assert p.type_hint, f"{path.name}: {p.name} has no type hint"
        assert p.help, f"{path.name}: {p.name} has no '# help' comment"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_profile_parameter_exists_in_the_notebook(path, profile):
    check_parameters(path, profile_parameters(profile, path.stem))


def test_profiles_have_one_source_every_experiment_module_offers_every_profile():
    assert set(NOTEBOOK_EXPERIMENTS) == {p.stem for p in NOTEBOOKS}
    for stem, modules in NOTEBOOK_EXPERIMENTS.items():
        for module in modules:
            assert set(REQUIRED_PROFILES) <= set(module.PROFILES) <= set(PROFILE_NAMES), \
                f"{stem}: {module.__name__}.PROFILES"


def test_unknown_or_mistyped_parameter_is_an_error():
    path = NOTEBOOKS[0]
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['profil'\]"):
        check_parameters(path, {"profil": "smoke"})
    with pytest.raises(ValueError, match="should be str"):
        check_parameters(path, {"profile": 3})


def test_parameters_cell_must_hold_annotated_literals():
    assert parse_parameters('a: int = 3  # help\nb: str = "x"  # more')["b"].help == "more"
    with pytest.raises(ValueError, match="expected"):
        parse_parameters("a = 3")
    with pytest.raises(ValueError, match="literal"):
        parse_parameters("a: int = len([1])  # no")


def test_missing_or_duplicate_parameters_cell(tmp_path):
    nb = json.loads(NOTEBOOKS[0].read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    dup = tmp_path / "dup.ipynb"
    dup.write_text(json.dumps({**nb, "cells": nb["cells"] + [cell]}))
    with pytest.raises(ValueError, match="2 cells tagged 'parameters'"):
        notebook_parameters(dup)
    none = tmp_path / "none.ipynb"
    none.write_text(json.dumps({**nb, "cells": [c for c in nb["cells"] if c is not cell]}))
    with pytest.raises(ValueError, match="0 cells tagged 'parameters'"):
        notebook_parameters(none)


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown profile 'quick'"):
        profile_parameters("quick", NOTEBOOKS[0].stem)


def test_strip_volatile_keeps_outputs_counts_and_tags(tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"papermill": {"start_time": "t0", "end_time": "t1", "duration": 1.0, "input_path": "x",
                                     "parameters": {"profile": "smoke"}}},
          "cells": [{"cell_type": "code", "execution_count": 3, "source": "1", "outputs": [{"output_type": "stream",
                     "name": "stdout", "text": "1"}], "metadata": {"tags": ["parameters"], "papermill": {
                         "duration": 0.1}, "execution": {"iopub.status.busy": "t"}}}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    strip_volatile(path)
    out = json.loads(path.read_text())
    assert out["metadata"]["papermill"] == {"parameters": {"profile": "smoke"}}
    cell = out["cells"][0]
    assert cell["metadata"] == {"tags": ["parameters"]}
    assert cell["outputs"] and cell["execution_count"] == 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_an_executed_report(path):
    """Committed notebooks keep their outputs and hold no errors or volatile timestamps."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert any(c.get("outputs") for c in code), "notebook was committed without outputs"
    for c in code:
        assert all(o.get("output_type") != "error" for o in c.get("outputs", [])), c["source"]
        assert "papermill" not in c["metadata"] and "execution" not in c["metadata"]
    assert nb["metadata"].get("papermill", {}).get("parameters", {}).get("profile") == "full"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_cells_are_not_commented_out(path):
    """Markdown written as '# '-prefixed script comments would render as a wall of headings."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            lines = "".join(cell["source"]).split("\n")
            assert not any(line == "#" or line.startswith("# #") for line in lines), lines[0]
            assert not (lines[0].startswith("# ") and len(lines[0]) > 120), f"a paragraph as a heading: {lines[0][:60]}"


def test_a_hung_cell_is_stopped_with_a_clear_error_and_the_notebook_left_untouched(tmp_path, monkeypatch):
    import nbformat

    import lib.notebook_runner
    from lib.notebook_runner import KERNEL, NotebookFailed, run_notebook

    params = nbformat.v4.new_code_cell('profile: str = "full"  # which sizes', metadata={"tags": ["parameters"]})
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell("import time\ntime.sleep(30)")])
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    path = tmp_path / "90_hangs.ipynb"
    nbformat.write(nb, path)
    before = path.read_text()
    monkeypatch.setattr(lib.notebook_runner, "CELL_TIMEOUT_S", 2)
    with pytest.raises(NotebookFailed, match="ran longer than 2 s"):
        run_notebook(path, "smoke", out_dir=tmp_path / "out", progress=False)
    assert path.read_text() == before


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_have_no_injected_parameters_cell(path):
    """A reader who edits the parameters cell (say, to the smoke profile) must get that run:
    papermill's injected cell, which would override the edit, is stripped from the report."""
    nb = json.loads(path.read_text())
    tags = [c.get("metadata", {}).get("tags", []) for c in nb["cells"]]
    assert not any("injected-parameters" in t for t in tags), f"{path.name} keeps papermill's injected cell"


def test_strip_volatile_drops_the_injected_cell_only_when_asked(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('profile: str = "full"  # p', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('profile = "smoke"', metadata={"tags": ["injected-parameters"]})]
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    strip_volatile(path)
    assert len(json.loads(path.read_text())["cells"]) == 2  # smoke copies keep it: nbval re-runs them as run
    strip_volatile(path, drop_injected=True)
    assert [c["metadata"]["tags"] for c in json.loads(path.read_text())["cells"]] == [["parameters"]]


def test_the_full_report_leaves_out_only_the_long_only_notebooks():
    from lib.experiments.notebooks import LONG_ONLY, in_report
    stems = {p.stem for p in NOTEBOOKS}
    assert set(LONG_ONLY) <= stems
    assert {s for s in stems if in_report(s, "full")} == stems - set(LONG_ONLY)
    assert all(in_report(s, "long") and in_report(s, "smoke") for s in stems)


def test_slowest_cells_reads_papermill_durations_slowest_first(tmp_path):
    from lib.notebook_runner import slowest_cells
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
             {"cell_type": "code", "metadata": {"papermill": {"duration": 1.25}}, "source": ["# NBVAL_IGNORE_OUTPUT\n", "a = 1"]},
             {"cell_type": "code", "metadata": {"papermill": {"duration": 9.0}}, "source": ["train()\n", "more()"]},
             {"cell_type": "code", "metadata": {}, "source": ["never_ran()"]}]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert slowest_cells(path) == [{"cell": 2, "seconds": 9.0, "code": "train()"},
                                   {"cell": 1, "seconds": 1.2, "code": "a = 1"}]
