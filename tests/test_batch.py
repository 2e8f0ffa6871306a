"""``turnout batch``: finding videos, output folders, the resume key, summary rows from the real result
format, and (slow, the pose model on short clips cut from ``samples/demo_plie.mp4``) a whole batch
with a good clip, a short clip, a corrupt file, a non-video and nested folders; a batch interrupted
(SIGINT, then SIGKILL) and resumed gives the same summary as an uninterrupted one; a worker that dies
fails only its own video.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from turnout_vision import batch
from turnout_vision.config import Config
from turnout_vision.errors import EXIT_INTERRUPTED, EXIT_SOME_FAILED, InputError

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "demo_plie.mp4"


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------------ fast: no model

def test_find_videos_by_extension_any_case_recursive(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for rel in ("a.MP4", "b.mov", "class1/c.mkv", "class1/deep/d.Avi", "notes.txt", "class1/README",
                ".hidden.mp4", ".git/e.mp4", "results/f.mp4"):
        _touch(root / rel)
    found = batch.find_videos(root, exclude=root / "results")
    rel = lambda paths: [p.relative_to(root).as_posix() for p in paths]  # noqa: E731
    assert rel(found.videos) == ["a.MP4", "b.mov", "class1/c.mkv", "class1/deep/d.Avi"]
    assert rel(found.skipped) == ["class1/README", "notes.txt"]


def test_output_dirs_mirror_the_tree_and_never_collide(tmp_path: Path) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    videos = [_touch(root / r) for r in ("anna.mp4", "Anna.mov", "ben.mp4", "class1/cleo.mp4", "class1.mp4",
                                         "summary.csv.mp4")]
    dirs = {v.relative_to(root).as_posix(): d.relative_to(out).as_posix()
            for v, d in batch.output_dirs(sorted(videos), root, out).items()}
    assert dirs == {"anna.mp4": "anna_mp4", "Anna.mov": "Anna_mov", "ben.mp4": "ben", "class1/cleo.mp4": "class1/cleo",
                    "class1.mp4": "class1_mp4", "summary.csv.mp4": "summary.csv_mp4"}


def test_default_output_folder_is_beside_the_input(tmp_path: Path) -> None:
    assert batch.default_out_root(tmp_path / "classes") == (tmp_path / "classes_turnout").resolve()


def test_resume_key_follows_content_model_and_configuration() -> None:
    base = batch.resume_key("c" * 64, "m" * 64, Config())
    assert batch.resume_key("c" * 64, "m" * 64, Config()) == base
    assert batch.resume_key("d" * 64, "m" * 64, Config()) != base
    assert batch.resume_key("c" * 64, "n" * 64, Config()) != base
    assert batch.resume_key("c" * 64, "m" * 64, Config().merged({"flags.forced_turnout_deg": 12.0})) != base
    # where the model file is does not matter, its checksum does
    assert batch.resume_key("c" * 64, "m" * 64, Config().merged({"model.task_path": "/x/pose.task"})) == base


def test_file_sha256(tmp_path: Path) -> None:
    path = _touch(tmp_path / "v.mp4", b"abc" * 1000)
    assert batch.file_sha256(path, chunk=7) == hashlib.sha256(b"abc" * 1000).hexdigest()


def _real_result() -> dict:
    """A result in the real format: the analysis core on a synthetic plié (15 degrees forced per side),
    its floor points taken from the truth, checked against the JSON schema."""
    from turnout_vision.analysis.core import analyze
    from turnout_vision.analysis.result import validate
    from turnout_vision.synthetic import Motion, Scene, generate

    clip = generate(Scene(motion=Motion(leg_rotation_deg=(45, 45), below_knee_rotation_deg=(15, 15))), seed=1)

    def lift(xy_px, world_xyz, frame_size_wh, config, toe_tip_px=None):  # noqa: ANN001, ANN202
        return clip.truth.floor_points()

    lift.name = "truth"  # type: ignore[attr-defined]
    data = json.loads(analyze(clip.sequence, Config(), lifter=lift).to_json())
    validate(data)
    return data


def test_summary_rows_read_the_result_format() -> None:
    data = _real_result()
    data["recording"] = {"limits_verdict": False, "issues": [{"code": "too_dark", "message": "m", "fix": "f"}]}
    rows = batch.summary_rows("class1/anna.mp4", "ok", "", data, "class1/anna/report.html")
    assert [r["side"] for r in rows] == ["left", "right"]
    for row in rows:
        side = data["summary"][row["side"]]
        assert row["video"] == "class1/anna.mp4" and row["status"] == "ok"
        assert row["reps"] == data["summary"]["n_reps"] >= 1
        assert row["foot_rotation_deg"] == pytest.approx(side["foot_rotation_deg"]["value"], abs=0.05)
        assert row["leg_rotation_deg"] == pytest.approx(side["leg_rotation_deg"]["value"], abs=0.05)
        assert row["forced_turnout_deg"] == pytest.approx(side["forced_turnout_deg"]["value"], abs=0.05)
        assert row["forced_turnout_deg"] == pytest.approx(15.0, abs=3.0)  # the synthetic truth
        assert row["forced_turnout_sd"] == pytest.approx(side["forced_turnout_deg"]["sd"], abs=0.05)
        assert row["knee_over_toe_ratio"] == pytest.approx(side["knee_over_toe"]["ratio"]["value"], abs=5e-4)
        assert "forced_turnout" in row["flags"].split(";")
        assert row["warnings"].split(";")[-1] == "too_dark"
        assert row["report"] == "class1/anna/report.html"
        assert set(row) <= set(batch.SUMMARY_COLUMNS)


def test_summary_rows_unknown_values_are_empty() -> None:
    data = _real_result()
    data["summary"]["left"]["leg_rotation_deg"] = {"value": None, "reason": "knee not bent"}
    row = batch.summary_rows("a.mp4", "ok", "", data)[0]
    assert row["leg_rotation_deg"] == "" and row["leg_rotation_sd"] == ""
    (failed,) = batch.summary_rows("b.mp4", "failed", "cannot be read", None)
    assert failed == {"video": "b.mp4", "dancer": "", "status": "failed", "reason": "cannot be read", "report": "",
                      "side": ""}


def test_summary_rows_of_a_class_video_one_per_dancer_and_side() -> None:
    data = _real_result()
    refused = {**data, "status": "refused", "summary": {"n_reps": 0}, "flags": [], "reps": []}
    result = {"mode": "class", "status": "ok", "dancers": [
        {**data, "id": 0, "label": "A", "verdict": {"status": "ok", "reason": None}},
        {**refused, "id": 1, "label": "B", "verdict": {"status": "not_scorable", "reason": "Not scorable: hidden."}},
    ]}
    rows = batch.summary_rows("class.mp4", "ok", "", result, "class/report.html")
    assert [(r["dancer"], r["side"], r["status"]) for r in rows] == [
        ("A", "left", "ok"), ("A", "right", "ok"), ("B", "left", "not_scorable"), ("B", "right", "not_scorable")]
    assert rows[0]["forced_turnout_deg"] == pytest.approx(data["summary"]["left"]["forced_turnout_deg"]["value"], abs=0.05)
    assert rows[2]["forced_turnout_deg"] == "" and rows[2]["reason"] == "Not scorable: hidden."
    (none,) = batch.summary_rows("empty.mp4", "no_plie", "No dancer.", {"mode": "class", "dancers": []})
    assert none["side"] == "" and none["reason"] == "No dancer."


def test_write_summary_csv_and_sortable_index(tmp_path: Path) -> None:
    data = _real_result()
    outcomes = [
        batch.VideoOutcome("a <b>.mp4", "ok", "", batch.summary_rows("a <b>.mp4", "ok", "", data, "a <b>/report.html")),
        batch.VideoOutcome("z.mp4", "failed", "broken", batch.summary_rows("z.mp4", "failed", "broken", None)),
    ]
    batch.write_summary(outcomes, tmp_path)
    rows = list(csv.DictReader((tmp_path / batch.SUMMARY_CSV).read_text(encoding="utf-8").splitlines()))
    assert tuple(rows[0]) == batch.SUMMARY_COLUMNS
    assert [(r["video"], r["side"], r["status"]) for r in rows] == [
        ("a <b>.mp4", "left", "ok"), ("a <b>.mp4", "right", "ok"), ("z.mp4", "", "failed")]
    page = (tmp_path / batch.INDEX_HTML).read_text(encoding="utf-8")
    assert '<a href="a &lt;b&gt;/report.html">report</a>' in page
    assert "<b>" not in page.split("<body>")[1].split("<script>")[0]  # escaped
    assert 'data-status="failed"' in page and "addEventListener('click'" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == [batch.INDEX_HTML, batch.SUMMARY_CSV]  # no temporaries


def test_refuses_unusable_folders(tmp_path: Path) -> None:
    root = tmp_path / "in"
    _touch(root / "class1" / "a.mp4")
    with pytest.raises(InputError, match="not found"):
        batch.run_batch(tmp_path / "nope", model_sha256="m")
    with pytest.raises(InputError, match="holds the input folder"):
        batch.run_batch(root, root, model_sha256="m")
    with pytest.raises(InputError, match="holds the input folder"):
        batch.run_batch(root / "class1", root, model_sha256="m")
    _touch(tmp_path / "empty" / "notes.txt")
    with pytest.raises(InputError, match="No videos"):
        batch.run_batch(tmp_path / "empty", model_sha256="m")


def test_a_folder_not_written_by_turnout_is_never_replaced(tmp_path: Path) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    video = _touch(root / "anna.mp4", b"not really a video")
    mine = _touch(out / "anna" / "thesis.docx", b"precious")
    job = batch.VideoJob(video, "anna.mp4", out / "anna", out, {}, Config())
    outcome = batch.score_one(job)
    assert outcome.status == "failed" and "did not write" in outcome.reason and "thesis.docx" in outcome.reason
    assert mine.read_bytes() == b"precious" and sorted(p.name for p in out.iterdir()) == ["anna"]


def test_a_corrupt_file_fails_with_its_reason_and_leaves_nothing(tmp_path: Path) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    video = _touch(root / "sub" / "broken.mp4", bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8)))
    outcome = batch.score_one(batch.VideoJob(video, "sub/broken.mp4", out / "sub" / "broken", out, {}, Config()))
    assert outcome.status == "failed" and outcome.reason.startswith("sub/broken.mp4 cannot be read")
    assert str(root) not in outcome.reason  # paths relative to the input folder
    assert [p.name for p in (out / "sub").iterdir()] == []


# ------------------------------------------------------------------------------------------ slow: the pose model

def _cut(src: Path, dst: Path, seconds: float) -> Path:
    import cv2

    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    dst.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(int(round(seconds * fps))):
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(frame)
    writer.release()
    cap.release()
    return dst


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory: pytest.TempPathFactory, built_pose_model) -> Path:  # type: ignore[no-untyped-def]
    """in/: demo.mp4 (the 5 s sample: a plié), broken.mp4 (random bytes), notes.txt, and nested
    class2/short.MOV and class2/deeper/short2.mp4 (2 s cuts: no complete plié)."""
    root = tmp_path_factory.mktemp("batch") / "in"
    _touch(root / "demo.mp4", SAMPLE.read_bytes())
    _touch(root / "broken.mp4", bytes(np.random.default_rng(1).integers(0, 256, 30000, dtype=np.uint8)))
    _touch(root / "notes.txt", b"attendance list")
    _cut(SAMPLE, root / "class2" / "short.MOV", 2.0)
    _cut(SAMPLE, root / "class2" / "deeper" / "short2.mp4", 1.6)
    return root


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _summary(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / batch.SUMMARY_CSV).read_text(encoding="utf-8").splitlines()))


def _no_temporaries(out: Path) -> None:
    """Every output folder under its final name is complete (marker present), and no temporary is left."""
    leftovers = [p for p in out.rglob("*") if ".partial" in p.name or ".old-" in p.name]
    assert leftovers == []
    for marker_dir in {p.parent for p in out.rglob("result.json")}:
        assert (marker_dir / batch.MARKER).is_file(), marker_dir


@pytest.fixture(scope="module")
def uninterrupted(class_folder: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from turnout_vision.cli import main

    before = _snapshot(class_folder)
    out = tmp_path_factory.mktemp("batch_out") / "results"
    argv = sys.argv
    sys.argv = ["turnout", "batch", str(class_folder), "--out", str(out), "--workers", "2", "--quiet"]
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    return out, exc.value.code, before


@pytest.mark.slow
def test_batch_scores_a_folder(class_folder: Path, uninterrupted) -> None:  # type: ignore[no-untyped-def]
    out, code, before = uninterrupted
    assert code == EXIT_SOME_FAILED
    assert _snapshot(class_folder) == before  # inputs untouched
    rows = _summary(out)
    by_video = {}
    for row in rows:
        by_video.setdefault(row["video"], []).append(row)
    assert list(by_video) == ["broken.mp4", "class2/deeper/short2.mp4", "class2/short.MOV", "demo.mp4", "notes.txt"]
    (broken,) = by_video["broken.mp4"]
    assert broken["status"] == "failed" and "cannot be read" in broken["reason"] and not broken["report"]
    (notes,) = by_video["notes.txt"]
    assert notes["status"] == "skipped" and "not a video" in notes["reason"]
    demo = by_video["demo.mp4"]
    assert [(r["side"], r["status"], r["reps"]) for r in demo] == [("left", "ok", "1"), ("right", "ok", "1")]
    result = json.loads((out / "demo" / "result.json").read_text(encoding="utf-8"))
    for row in demo:
        assert float(row["foot_rotation_deg"]) == pytest.approx(result["summary"][row["side"]]["foot_rotation_deg"]["value"], abs=0.05)
        assert 40 < float(row["foot_rotation_deg"]) < 80 and row["forced_turnout_deg"] != ""
    for rel in ("class2/short.MOV", "class2/deeper/short2.mp4"):
        assert {r["status"] for r in by_video[rel]} <= batch.SCORED
    # the output tree mirrors the input tree; each report is linked from the index
    for rel_dir in ("demo", "class2/short", "class2/deeper/short2"):
        assert sorted(p.name for p in (out / rel_dir).iterdir()) == [
            "annotated.mp4", batch.MARKER, "frames.csv", "landmarks.npz", "report.html", "result.json"]
    page = (out / batch.INDEX_HTML).read_text(encoding="utf-8")
    assert page.count('href="demo/report.html"') == 4 and 'href="class2/deeper/short2/report.html"' in page
    assert not (out / "broken").exists()
    _no_temporaries(out)


@pytest.mark.slow
def test_rerun_skips_done_videos_and_force_redoes_them(class_folder: Path, uninterrupted) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = uninterrupted
    markers = {p: p.stat().st_mtime_ns for p in out.rglob(batch.MARKER)}
    assert len(markers) == 3
    summary = _summary(out)
    result = batch.run_batch(class_folder, out, workers=1)
    assert result.n_cached == 3 and result.n_failed == 1 and result.exit_code == EXIT_SOME_FAILED
    assert {p: p.stat().st_mtime_ns for p in out.rglob(batch.MARKER)} == markers
    assert _summary(out) == summary
    # a changed configuration is a different key: only that is redone (here: one short clip, alone)
    solo = class_folder.parent / "solo"
    _touch(solo / "short2.mp4", (class_folder / "class2" / "deeper" / "short2.mp4").read_bytes())
    first = batch.run_batch(solo, out / "solo", workers=1)
    again = batch.run_batch(solo, out / "solo", Config().merged({"flags.forced_turnout_deg": 12.0}), workers=1)
    assert not first.outcomes[0].cached and not again.outcomes[0].cached
    forced = batch.run_batch(solo, out / "solo", Config().merged({"flags.forced_turnout_deg": 12.0}), workers=1,
                             force=True)
    assert not forced.outcomes[0].cached and forced.outcomes[0].status in batch.SCORED
    _no_temporaries(out)


def _start(folder: Path, out: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "turnout_vision", "batch", str(folder), "--out", str(out),
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _interrupt_after_next_marker(proc: subprocess.Popen[str], out: Path, sig: int) -> None:
    before = set(out.rglob(batch.MARKER)) if out.exists() else set()
    deadline = time.monotonic() + 240
    while not (set(out.rglob(batch.MARKER)) - before if out.exists() else set()):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "no video finished in time"
        time.sleep(0.05)
    time.sleep(0.3)  # into the next video
    proc.send_signal(sig)
    proc.communicate(timeout=60)


@pytest.mark.slow
def test_interrupted_batch_resumes_to_the_same_summary(class_folder: Path, uninterrupted,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    out = tmp_path / "results"
    # 1. Ctrl-C after the first video: workers stopped, temporaries removed, summary written, exit 130
    proc = _start(class_folder, out)
    _interrupt_after_next_marker(proc, out, signal.SIGINT)
    assert proc.returncode == EXIT_INTERRUPTED
    _no_temporaries(out)
    statuses = {r["video"]: r["status"] for r in _summary(out)}
    assert "pending" in statuses.values() and statuses["class2/deeper/short2.mp4"] in batch.SCORED
    # 2. resumed, then SIGKILL (nothing runs in the batch process): no final folder is incomplete
    proc = _start(class_folder, out)
    _interrupt_after_next_marker(proc, out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(2.0)  # the orphaned worker notices within a second and removes its temporary folder
    _no_temporaries(out)
    assert len(list(out.rglob(batch.MARKER))) == 2
    # 3. resumed to the end: the same summary as the uninterrupted batch
    result = batch.run_batch(class_folder, out, workers=1)
    assert result.n_cached == 2 and result.exit_code == EXIT_SOME_FAILED
    resumed, whole = _summary(out), _summary(uninterrupted[0])
    assert [(r["video"], r["side"]) for r in resumed] == [(r["video"], r["side"]) for r in whole]
    for a, b in zip(resumed, whole, strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    _no_temporaries(out)


@pytest.mark.slow
def test_a_worker_that_dies_fails_only_its_video(class_folder: Path, tmp_path: Path) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    short = (class_folder / "class2" / "deeper" / "short2.mp4").read_bytes()
    _touch(root / "a.mp4", short)
    _touch(root / "b.mp4", short)
    killed: list[int] = []

    def kill_worker_scoring_a() -> None:  # stands in for a crash in native code
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for tmp in out.glob(".a.partial-*") if out.exists() else []:
                pid = int(tmp.name.rsplit("-", 1)[1])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.02)

    thread = threading.Thread(target=kill_worker_scoring_a)
    thread.start()
    result = batch.run_batch(root, out, workers=1)
    thread.join()
    assert killed
    a, b = result.outcomes
    assert a.status == "failed" and "worker process died" in a.reason and "SIGKILL" in a.reason
    assert b.status in batch.SCORED and (out / "b" / batch.MARKER).is_file()
    assert result.exit_code == EXIT_SOME_FAILED
    _no_temporaries(out)
