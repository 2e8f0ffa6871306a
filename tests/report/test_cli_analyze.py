"""`turnout analyze VIDEO` through the console entry point, with the pose model replaced by the synthetic
clip's landmarks (the real analysis core runs): exit codes, --json-only, refusing to overwrite."""

from __future__ import annotations

import json
import sys

import pytest

from turnout_vision import cli, pipeline
from turnout_vision.errors import EXIT_BAD_INPUT, EXIT_NO_PLIE, EXIT_OK
from turnout_vision.synthetic import Camera, Motion, Scene, generate


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["turnout", *argv])
    cli._state["debug"] = False
    with pytest.raises(SystemExit) as exc:
        cli.main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture()
def fake_pose(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(clip):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(pipeline, "_extract", lambda video, config, progress: clip.sequence)
    return use


def test_json_only_prints_the_result_and_exit_0(forced_clip, forced_video, fake_pose, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("turnout_vision.analysis.core")
    fake_pose(forced_clip)
    code, out, err = run(["analyze", str(forced_video), "--out", str(tmp_path / "o"), "--json-only"], monkeypatch, capsys)
    assert code == EXIT_OK, err
    data = json.loads(out)
    assert data["verdict"]["status"] == "ok" and data["reps"]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["landmarks.npz", "result.json"]
    assert data["verdict"]["per_leg"][0].startswith("Left leg: the foot is turned out")

    code, _, err = run(["analyze", str(forced_video), "--out", str(tmp_path / "o")], monkeypatch, capsys)
    assert code == EXIT_BAD_INPUT and "already exists" in err and "--force" in err
    assert "Traceback" not in err


def test_no_plie_exit_code_and_report(forced_video, fake_pose, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("turnout_vision.analysis.core")
    standing = generate(Scene(motion=Motion(kind="standing", fps=25.0, n_reps=1, rep_duration_s=2.0, lead_s=0.6,
                                            trail_s=0.4), camera=Camera(width_px=360, height_px=640)), seed=3)
    if standing.sequence.n_frames != 76:
        pytest.skip("the standing clip must have as many frames as the synthetic video")
    fake_pose(standing)
    code, _, err = run(["analyze", str(forced_video), "--out", str(tmp_path / "s"), "--quiet"], monkeypatch, capsys)
    assert code == EXIT_NO_PLIE
    assert "No demi-plié" in err and "Traceback" not in err
    html = (tmp_path / "s" / "report.html").read_text(encoding="utf-8")
    assert "No demi-plié was found" in html


def test_missing_video_is_bad_input(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(["analyze", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "x")], monkeypatch, capsys)
    assert code == EXIT_BAD_INPUT and "not found" in err
