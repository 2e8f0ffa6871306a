"""The report outputs of one video, from a synthetic clip and a hand-made analysis result (so these
tests do not depend on the pose model or the analysis core): files, CSV rows, video frames and codec,
the HTML's self-containment, and a Chromium screenshot of it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from turnout_vision import pipeline
from turnout_vision.errors import InputError

EXTERNAL = re.compile(r"""(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
                      re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """Attributes or CSS that would load something from outside the file."""
    found = EXTERNAL.findall(html)
    found += re.findall(r"<(?:script|link|iframe|object|embed)\b[^>]*>", html, re.IGNORECASE)
    return found


@pytest.fixture(scope="module")
def outputs(forced_clip, forced_result, forced_video, tmp_path_factory):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    mp.setattr(pipeline, "_analyze", lambda seq, cfg: (forced_result, forced_result.to_dict()))
    try:
        out = tmp_path_factory.mktemp("report") / "forced"
        outcome = pipeline.analyze_video(forced_video, out, quiet=True, sequence=forced_clip.sequence)
    finally:
        mp.undo()
    return outcome


def test_all_outputs_exist_and_nothing_partial(outputs) -> None:  # type: ignore[no-untyped-def]
    names = sorted(p.name for p in outputs.out_dir.iterdir())
    assert names == sorted(pipeline.OUTPUT_NAMES.values())
    assert outputs.status == "ok" and outputs.exit_code == 0


def test_csv_has_one_row_per_frame(outputs, forced_clip) -> None:  # type: ignore[no-untyped-def]
    with outputs.files["csv"].open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == forced_clip.sequence.n_frames
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    foot = np.array([float(r["foot_rotation_deg_left"]) for r in rows if r["foot_rotation_deg_left"]])
    np.testing.assert_allclose(np.median(foot), 68.0, atol=1.0)
    assert any("knee_inside_toes:left" in r["flags"] for r in rows)
    assert any(r["plie"] == "1" for r in rows)


def test_annotated_video_keeps_frames_fps_and_is_h264(outputs, forced_clip) -> None:  # type: ignore[no-untyped-def]
    import cv2

    cap = cv2.VideoCapture(str(outputs.files["video"]))
    try:
        n = 0
        while cap.read()[0]:
            n += 1
        fps = cap.get(cv2.CAP_PROP_FPS)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
    finally:
        cap.release()
    assert n == forced_clip.sequence.n_frames
    assert fps == pytest.approx(25.0, abs=0.01)
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4))
    assert codec.lower() in ("avc1", "h264"), f"not H.264: {codec!r} ({outputs.video_codec})"
    assert outputs.result_json["outputs"]["annotated_video_frames"] == n


def test_json_carries_verdict_recording_config_versions(outputs) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(outputs.files["json"].read_text())
    for key in ("schema_version", "reps", "summary", "flags", "config", "versions", "recording", "verdict"):
        assert key in data
    assert data["verdict"]["status"] == "ok"
    assert "forced" in data["verdict"]["headline"].lower()
    assert data["versions"]["turnout_vision"]
    assert any("Bring your left foot in to about 50°" in c for c in data["verdict"]["changes"])


def test_html_is_self_contained(outputs) -> None:  # type: ignore[no-untyped-def]
    html = outputs.files["html"].read_text(encoding="utf-8")
    assert external_references(html) == []
    assert html.count("data:image/png;base64,") == 2  # the two plots
    assert html.count("data:image/jpeg;base64,") == 1  # one plié, one still
    assert html.index("id='verdict'") < html.index("What to change") < html.index("plot-knee_flexion")
    assert "come from the hips" in html


def test_html_renders_in_chromium(outputs, chromium_screenshot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shot = chromium_screenshot(outputs.files["html"], tmp_path / "report.png")
    grey = shot.mean(axis=2)
    assert (grey < 200).mean() > 0.03, "the screenshot is nearly blank"
    # the plots and the still are rendered: rows with plenty of colour/dark pixels well below the header
    dark_rows = np.flatnonzero((grey < 200).mean(axis=1) > 0.2)
    assert dark_rows.size > 200 and dark_rows.max() > 1000


def test_external_reference_detector() -> None:
    assert external_references("<img src='https://x/y.png'>")
    assert external_references('<a href="//cdn/x">')
    assert external_references("<style>body{background:url(http://x)}</style>")
    assert external_references("<script>1</script>")
    assert not external_references("<img src='data:image/png;base64,AAAA'>")


def test_refuses_existing_folder_and_input_folder(outputs, forced_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="already exists"):
        pipeline.resolve_paths(forced_video, outputs.out_dir, force=False)
    assert pipeline.resolve_paths(forced_video, outputs.out_dir, force=True)[1] == outputs.out_dir
    with pytest.raises(InputError, match="holds the video"):
        pipeline.resolve_paths(forced_video, forced_video.parent, force=True)
    with pytest.raises(InputError, match="not found"):
        pipeline.resolve_paths(tmp_path / "missing.mp4", None, force=False)
    assert pipeline.resolve_paths(forced_video, None, False)[1] == Path("turnout_output") / forced_video.stem


def test_json_only_writes_no_video_or_html(forced_clip, forced_result, forced_video, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline, "_analyze", lambda seq, cfg: (forced_result, forced_result.to_dict()))
    outcome = pipeline.analyze_video(forced_video, tmp_path / "j", json_only=True, quiet=True,
                                     sequence=forced_clip.sequence)
    assert sorted(p.name for p in outcome.out_dir.iterdir()) == ["landmarks.npz", "result.json"]
    assert json.loads(outcome.files["json"].read_text())["recording"]["limits_verdict"] is False
