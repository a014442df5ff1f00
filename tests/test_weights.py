"""qa.weights: the one file of fitted weights, checked against the features the code computes."""
from __future__ import annotations

import pytest

from qa import weights

pytestmark = pytest.mark.unit


def test_weights_that_do_not_match_the_features_are_refused(tmp_path):
    from qa.errors import QAError
    path = tmp_path / "weights.json"
    weights.save({"m": {"features": ["cos", "gone"], "bias": 0.0, "coef": {"cos": 1.0, "gone": 1.0}}}, path)
    assert weights.model("m", ["gone", "cos"], path)["coef"]["cos"] == 1.0
    with pytest.raises(QAError, match="gone"):
        weights.model("m", ["cos"], path)
    with pytest.raises(QAError, match="no model"):
        weights.model("other", ["cos"], path)
    path.write_text('{"format": 99}')
    weights._CACHE.clear()
    with pytest.raises(QAError, match="format"):
        weights.fitted(path)


def test_probability_is_the_logistic_of_the_weighted_features():
    m = {"bias": -1.0, "coef": {"a": 2.0, "b": -0.5}}
    assert weights.probability(m, {"a": 0.5, "b": 0.0}) == pytest.approx(0.5)
    assert weights.probability(m, {"a": 1.0}) == pytest.approx(1 / (1 + 2.718281828459045 ** -1.0))
    assert weights.probability(m, {"a": 1e9}) == pytest.approx(1.0)  # clipped, no overflow
