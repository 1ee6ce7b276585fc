"""The regularization study's conclusion follows its three tests, whichever way the data go."""

import numpy as np
import pandas as pd

from lib.experiments.regularization import conclusion


def _results(ood: dict[str, list[float]]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"config": name, "seed": i, "ood64_acc": v, "param_norm": rng.normal(10, 1), "sharpness": rng.normal()}
            for name, vals in ood.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


BASE = {"untied": [0.70, 0.71, 0.69, 0.70, 0.72], "untied shallow": [0.60, 0.61, 0.62, 0.60, 0.59]}


def test_a_regularizer_that_closes_the_gap_supports_the_reading():
    text = conclusion(_results({"tied": [0.80, 0.81, 0.79, 0.80, 0.82], **BASE,
                                "untied + dropout 0.1": [0.80, 0.79, 0.81, 0.80, 0.81]}))
    assert "significantly better" in text and "an explicit regularizer reproduces the effect" in text
    assert "1 improve OOD accuracy significantly (untied + dropout 0.1)" in text


def test_no_regularizer_closing_the_gap_means_more_than_regularization():
    text = conclusion(_results({"tied": [0.80, 0.81, 0.79, 0.80, 0.82], **BASE,
                                "untied + dropout 0.1": [0.70, 0.71, 0.70, 0.69, 0.70]}))
    assert "no explicit regularizer reproduces the effect" in text


def test_no_tying_effect_and_a_harmful_tying_are_said_plainly():
    same = conclusion(_results({"tied": [0.70, 0.72, 0.69, 0.71, 0.70], **BASE}))
    assert "no significant effect" in same
    worse = conclusion(_results({"tied": [0.50, 0.51, 0.49, 0.50, 0.52], **BASE}))
    assert "significantly worse" in worse
