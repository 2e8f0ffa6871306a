"""End to end: `turnout analyze VIDEO` on real footage (the pose model runs once per clip, per session).

Positive case: ``wikimedia/ballet_plie.mp4`` (frontal, one demi-plié in first position).
Negative cases: ``squat/side_view_squat.mp4`` (side view) and ``wikimedia/ballet_balance.mp4``
(no plié) must give the documented warnings instead of a confident verdict.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from turnout_vision.config import Config

FOOTAGE = Path(__file__).resolve().parents[1].parent / "shared" / "footage"
SCHEMA = Path(__file__).resolve().parents[1] / "turnout_vision" / "schema" / "result.schema.json"

pytestmark = pytest.mark.slow


def _need(rel: str) -> Path:
    path = FOOTAGE / rel
    if not path.is_file():
        pytest.skip(f"shared footage {rel} is not here ({FOOTAGE})")
    try:
        import turnout_vision.analysis.core  # noqa: F401
        import turnout_vision.extract  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the analysis core or extraction is not available yet: {exc}")
    return path


def _run(rel: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from turnout_vision.pipeline import analyze_video

    video = _need(rel)
    out = tmp_path_factory.mktemp("e2e") / video.stem
    return analyze_video(video, out, quiet=True)


@pytest.fixture(scope="session")
def plie(tmp_path_factory):  # type: ignore[no-untyped-def]
    return _run("wikimedia/ballet_plie.mp4", tmp_path_factory)


@pytest.fixture(scope="session")
def side_view(tmp_path_factory):  # type: ignore[no-untyped-def]
    return _run("squat/side_view_squat.mp4", tmp_path_factory)


@pytest.fixture(scope="session")
def balance(tmp_path_factory):  # type: ignore[no-untyped-def]
    return _run("wikimedia/ballet_balance.mp4", tmp_path_factory)


@pytest.fixture(scope="session")
def chromium_screenshot():  # type: ignore[no-untyped-def]
    import cv2

    from turnout_vision.report.browser import find_chromium, screenshot

    def shot(html_path: Path, png_path: Path):  # type: ignore[no-untyped-def]
        if find_chromium() is None:
            pytest.skip("headless Chromium is not installed (test.sh installs Debian's `chromium` when it can)")
        return cv2.imread(str(screenshot(html_path, png_path)))

    return shot


def _count_frames(path: Path) -> tuple[int, float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return n, fps


def test_plie_outputs(plie) -> None:  # type: ignore[no-untyped-def]
    from turnout_vision.pipeline import OUTPUT_NAMES

    for name in OUTPUT_NAMES.values():
        assert (plie.out_dir / name).is_file(), name
    assert not [p for p in plie.out_dir.iterdir() if ".partial" in p.name]
    assert not (plie.video.parent / "report.html").exists()


def test_plie_json_validates_against_schema(plie) -> None:  # type: ignore[no-untyped-def]
    import jsonschema

    data = json.loads((plie.out_dir / "result.json").read_text())
    for key in ("schema_version", "reps", "summary", "flags", "config", "versions"):
        assert key in data, key
    if not SCHEMA.is_file():
        pytest.skip(f"no schema at {SCHEMA}")
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))


def test_plie_feet_read_as_the_frames_show(plie) -> None:  # type: ignore[no-untyped-def]
    """The real clip's feet, checked by hand on frame 60 (README, "Real clip check"): the parquet blocks'
    foreshortening with the shoes' image direction gives 57-62 deg, the tips' spread with a 0.23-0.24 m
    shoe 50-58 deg. Her loose trousers put MediaPipe's heels and ankles wide: the first fit opens the heel
    gap to about 8 cm and reads 45-47 deg; the method sees the heels apart, measures again with them held
    together (52 deg), says so, and states the change as extra foot uncertainty. The mask's toe tips are
    used (foot_index, a third of the black shoe short, reads 34-36 deg with the first fit). Legs 17-20 deg,
    so forced turnout is flagged."""
    data = json.loads((plie.out_dir / "result.json").read_text())
    camera = data["method"]["camera"]
    assert camera["toe_source"] == "mask"
    F = np.asarray(camera["foot_rotation_deg"])
    H = np.asarray(camera["leg_rotation_deg"])
    assert np.all((F > 50.0) & (F < 62.0)), F
    assert np.all((H > 10.0) & (H < 25.0)), H
    assert np.all(F - H > Config().flags.forced_turnout_deg)
    first = camera["heels_apart_fit"]
    assert first["heel_gap_m"] > 0.06 and camera["body"]["heel_gap_m"] < 0.04
    assert np.all(np.asarray(first["foot_rotation_deg"]) < F - 3.0)
    notes = [w["message"] for w in data["warnings"] if w["code"] == "floor_method_note"]
    assert any("heels look about" in note for note in notes), notes
    assert np.all(np.asarray(camera["heels_apart_sd_deg"]) > 3.0)


def test_plie_csv_one_row_per_frame(plie) -> None:  # type: ignore[no-untyped-def]
    with (plie.out_dir / "frames.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 174  # the input's frame count
    assert rows[0]["detected"] == "0"  # the title card
    assert sum(r["detected"] == "1" for r in rows) > 120


def test_plie_annotated_video_has_input_frames_and_fps(plie) -> None:  # type: ignore[no-untyped-def]
    n_in, fps_in = _count_frames(plie.video)
    n_out, fps_out = _count_frames(plie.out_dir / "annotated.mp4")
    assert (n_out, round(fps_out, 2)) == (n_in, round(fps_in, 2))


def test_plie_report_has_a_verdict_and_renders(plie, chromium_screenshot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    html = (plie.out_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "id='verdict'" in html and "data:image/png;base64," in html
    if plie.status == "ok":
        assert "data:image/jpeg;base64," in html  # a still of the plié's bottom
    shot = chromium_screenshot(plie.out_dir / "report.html", tmp_path / "plie.png")
    assert (shot.mean(axis=2) < 200).mean() > 0.03


def test_side_view_gives_the_side_view_warning(side_view) -> None:  # type: ignore[no-untyped-def]
    data = side_view.result_json
    codes = {i["code"] for i in data["recording"]["issues"]}
    assert "side_view" in codes
    assert side_view.status != "ok" and side_view.exit_code == 4
    assert not data["verdict"]["confident"]
    html = (side_view.out_dir / "report.html").read_text(encoding="utf-8")
    assert "from the side" in html and html.index("recording-problems") < html.index("id='verdict'")


def test_no_plie_clip_says_so(balance) -> None:  # type: ignore[no-untyped-def]
    data = balance.result_json
    assert balance.status == "no_plie" and balance.exit_code == 4
    assert data["reps"] == []
    assert not data["verdict"]["confident"]
    assert "No demi-plié was found" in data["verdict"]["headline"]
    n_out, _ = _count_frames(balance.out_dir / "annotated.mp4")
    assert n_out == 169
