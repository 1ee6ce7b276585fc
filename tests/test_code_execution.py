"""The code-execution task: generator, interpreter, tokenizer and examples."""

import numpy as np
import pytest

from lib.sequence.examples import collate
from lib.sequence.tasks import build_task
from lib.sequence.code_execution import (PAD, TOKEN_ID, VOCAB, CodeExecutionTask, decode, encode, generate_program,
                                      interpret, make_example, program_tokens, run)


@pytest.mark.parametrize("program,printed", [
    ("x = 3 ; print x ; END", [3]),
    ("x = 3 ; x ++ ; x ++ ; print x ; x -- ; print x ; END", [5, 4]),
    ("x = 3 ; y = 5 ; if x < y : x ++ ; print x ; if x > y : y -- ; print y ;", [4, 5]),
    ("x = 2 ; if x > 1 : y = 7 ; print y ; if y < 7 : x = 9 ; print x ;", [7, 2]),
    ("x = 10 ; y = 1 ; if x > 9 : y ++ ; if y < x : x -- ; print x ; print y ;", [9, 2]),
    ("z = 4 ; if z < 4 : z -- ; if z > 4 : z ++ ; print z ;", [4]),  # strict comparisons
])
def test_interpreter_on_hand_written_programs(program, printed):
    assert interpret(program.split()) == printed


@pytest.mark.parametrize("bad", ["x ++ ;", "print y ;", "x = 3 ; x * ;", "x = 3 ; print x", "x = 1 ; if x < 2 : print x ;"])
def test_interpreter_rejects_malformed_programs(bad):
    with pytest.raises(ValueError):
        interpret(bad.split())


@pytest.mark.parametrize("variables", [3, 5])
def test_generator_follows_the_paper_rules(variables):
    rng = np.random.default_rng(0)
    seen_ops, names = set(), set("xyzpr"[:variables])
    for _ in range(50):
        program = generate_program(rng, statements=30, variables=variables)
        assert len(program) == 30 and all(stmt[-1] == ";" for stmt in program)
        _, states = run(program_tokens(program))
        top_level_assigned = [stmt[0] for stmt in program if stmt[1] == "="]
        assert len(top_level_assigned) == len(set(top_level_assigned))  # each variable assigned once
        for state in states:
            assert set(state) <= names and all(1 <= v <= 10 for v in state.values())
        seen_ops |= {stmt[0] if stmt[0] in ("if", "print") else stmt[1] for stmt in program}
        for stmt in program:
            if stmt[0] == "if":
                assert stmt[5] not in ("if", "print") and stmt[6] in ("=", "++", "--")
    assert seen_ops == {"=", "++", "--", "if", "print"}


def test_generator_is_seeded():
    a = generate_program(np.random.default_rng(5), 20)
    b = generate_program(np.random.default_rng(5), 20)
    c = generate_program(np.random.default_rng(6), 20)
    assert a == b and a != c


def test_tokenizer_round_trip_and_vocabulary():
    program = generate_program(np.random.default_rng(1), 20, 5)
    toks = program_tokens(program)
    assert decode(encode(toks)) == toks
    assert len(set(VOCAB)) == len(VOCAB) and VOCAB[PAD] == "<pad>"
    with pytest.raises(ValueError, match="vocabulary"):
        encode(["x", "*", "2"])


def test_example_scores_exactly_the_printed_values():
    program = [("x", "=", "3", ";"), ("print", "x", ";"), ("x", "++", ";"), ("print", "x", ";")]
    ex = make_example(program)
    assert decode(ex.inputs) == "x = 3 ; print x ; x ++ ; print x ; END".split()
    assert np.flatnonzero(ex.mask).tolist() == [6, 12]  # the ';' of each print
    assert decode(ex.targets[ex.mask]) == ["3", "4"]
    assert (ex.targets[~ex.mask] == PAD).all()
    for program in CodeExecutionTask(statements=30).programs("test", 20):
        ex = make_example(program)
        values = [int(VOCAB[t]) for t in ex.targets[ex.mask]]
        assert values == interpret(program_tokens(program))


def test_splits_are_fixed_and_distinct():
    task = CodeExecutionTask(statements=12, train_programs=30)
    assert task.programs("test", 5) == task.programs("test", 8)[:5]
    assert task.programs("test", 5) != task.programs("train", 5)
    assert task.train_items() == task.programs("train", 30)
    with pytest.raises(KeyError):
        task.programs("holdout", 3)


def test_collate_pads_right():
    task = CodeExecutionTask(statements=6)
    exs = [task.example(p) for p in task.programs("val", 4)]
    x, y, m = collate(exs, PAD)
    for b, e in enumerate(exs):
        assert x[b, :len(e.inputs)].tolist() == e.inputs.tolist()
        assert (x[b, len(e.inputs):] == PAD).all() and not m[b, len(e.inputs):].any()


def test_bad_task_arguments_fail_clearly():
    with pytest.raises(ValueError, match="variables"):
        CodeExecutionTask(variables=6)
    with pytest.raises(ValueError, match="statements"):
        CodeExecutionTask(statements=0)
    with pytest.raises(TypeError, match="no argument"):
        build_task("code_execution", lines=3)
    with pytest.raises(KeyError, match="unknown task"):
        build_task("sorting")
    assert TOKEN_ID["10"] != TOKEN_ID["1"]


def test_trivial_baselines_on_a_hand_written_program():
    from lib.sequence.code_execution import trivial_baselines

    program = [("x", "=", "3", ";"), ("x", "++", ";"), ("print", "x", ";"),  # 4: last assignment says 3
               ("if", "x", ">", "9", ":", "x", "=", "7", ";"), ("print", "x", ";")]  # 4: false if, taken says 7
    assert interpret(program_tokens(program)) == [4, 4]
    train = [[("y", "=", "4", ";"), ("print", "y", ";")]]  # the most frequent printed value: 4
    scores = trivial_baselines([program], train)
    assert scores == {"most frequent value": 1.0, "last assignment": 0.0, "every if taken": 0.5}


def test_the_every_if_taken_shortcut_is_exact_on_programs_without_a_false_if():
    from lib.sequence.code_execution import trivial_baselines

    programs = [p for p in CodeExecutionTask(statements=8).programs("test", 200)
                if not any(s[0] == "if" for s in p)]
    assert programs and trivial_baselines(programs, programs)["every if taken"] == 1.0


def test_max_value_bounds_every_value_and_leaves_the_default_draw_unchanged():
    task = CodeExecutionTask(variables=2, statements=20, max_value=5)
    constants = set()
    for program in task.programs("test", 100):
        for state in run(program_tokens(program))[1]:
            assert all(1 <= v <= 5 for v in state.values())
        constants |= {int(s[3]) for s in program if s[0] == "if" and s[3].isdigit()}
        constants |= {int(s[2]) for s in program if s[1] == "=" and s[0] != "if"}
    assert constants == {1, 2, 3, 4, 5}
    rng = np.random.default_rng(3)
    assert generate_program(np.random.default_rng(3), 20, 3, max_value=10) == generate_program(rng, 20, 3)
    assert CodeExecutionTask(max_value=5).programs("test", 5) != CodeExecutionTask().programs("test", 5)


@pytest.mark.parametrize("bad", [1, 11])
def test_max_value_outside_the_vocabulary_fails_clearly(bad):
    with pytest.raises(ValueError, match="max_value"):
        CodeExecutionTask(max_value=bad)


def test_every_if_taken_clamps_at_max_value():
    from lib.sequence.code_execution import trivial_baselines

    program = [("x", "=", "5", ";"), ("if", "x", "<", "3", ":", "x", "++", ";"), ("print", "x", ";")]
    assert interpret(program_tokens(program)) == [5]  # the if is false; taken, x++ would leave 1..5
    assert trivial_baselines([program], [program], max_value=5)["every if taken"] == 1.0
    assert trivial_baselines([program], [program])["every if taken"] == 0.0  # at max 10, 6 != 5
