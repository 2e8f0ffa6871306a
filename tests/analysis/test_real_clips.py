"""Real footage end to end: extraction (turnout_vision.extract) then analysis.

``wikimedia/ballet_plie.mp4`` holds exactly one demi-plié; ``wikimedia/ballet_balance.mp4`` (balancé:
weight shifts, feet move) holds none. Skipped when the footage, the extraction module or the pose
model is not available.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from turnout_vision.analysis.core import analyze
from turnout_vision.analysis.result import validate
from turnout_vision.config import Config

pytestmark = pytest.mark.slow


def _extract(path: Path):  # noqa: ANN202
    try:
        from turnout_vision.extract import extract
    except ImportError as exc:
        pytest.skip(f"turnout_vision.extract is not available: {exc}")
    from turnout_vision.errors import ModelError

    try:
        return extract(path, Config())
    except ModelError as exc:
        pytest.skip(f"the pose model is not available: {exc}")


@pytest.fixture(scope="module")
def extracted() -> dict[str, object]:
    return {}


@pytest.mark.parametrize("method", ["camera", "world"])
def test_ballet_plie_has_exactly_one_demi_plie(footage: Callable[[str], Path], extracted: dict, method: str) -> None:
    seq = extracted.get("plie") or _extract(footage("wikimedia/ballet_plie.mp4"))
    extracted["plie"] = seq
    data = analyze(seq, Config().merged({"analysis": {"method": method}})).to_dict()
    validate(data)
    demi = [r for r in data["reps"] if r["kind"] == "demi"]
    assert len(demi) == 1, data["reps"]
    assert 4.0 < demi[0]["bottom_s"] < 6.0                   # the plié is in the middle of the clip


@pytest.mark.parametrize("method", ["camera", "world"])
def test_ballet_balance_has_no_plie(footage: Callable[[str], Path], extracted: dict, method: str) -> None:
    seq = extracted.get("balance") or _extract(footage("wikimedia/ballet_balance.mp4"))
    extracted["balance"] = seq
    data = analyze(seq, Config().merged({"analysis": {"method": method}})).to_dict()
    validate(data)
    assert [r for r in data["reps"] if r["kind"] == "demi"] == []
    assert data["status"] == "no_plie"
