import numpy as np
import pandas as pd

from lib.tables import readable


def test_missing_values_read_as_a_dash_and_numbers_keep_their_precision():
    df = pd.DataFrame({"acc": [91.234, np.nan], "best T": [8, None], "name": ["a", None]})
    out = readable(df)
    assert out["acc"].tolist() == ["91.2", "—"]
    assert out["best T"].tolist() == ["8.0", "—"]  # a column with a missing value is float in pandas
    assert out["name"].tolist() == ["a", "—"]
    assert "NaN" not in out.to_string()
