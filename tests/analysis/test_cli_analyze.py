"""`turnout analyze --landmarks FILE.npz --json OUT.json`: JSON written and valid, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from turnout_vision.analysis.result import validate
from turnout_vision.errors import EXIT_BAD_INPUT, EXIT_NO_PLIE, EXIT_OK
from turnout_vision.sequence import PoseSequence
from turnout_vision.synthetic import Motion, Scene, generate


def _turnout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "turnout_vision", *args], capture_output=True, text=True, timeout=120)


def test_analyze_landmarks_writes_valid_json(tmp_path: Path) -> None:
    npz = generate(Scene(motion=Motion(n_reps=2)), seed=5).sequence.save_npz(tmp_path / "clip.npz")
    out = tmp_path / "out" / "result.json"
    proc = _turnout("analyze", "--landmarks", str(npz), "--json", str(out), "--method", "world",
                    "--forced-threshold", "12")
    assert proc.returncode == EXIT_OK, proc.stderr
    data = json.loads(out.read_text())
    validate(data)
    assert len(data["reps"]) == 2
    assert data["config"]["flags"]["forced_turnout_deg"] == 12.0
    assert "plié" in proc.stdout


def test_analyze_no_person_exits_4_with_json(tmp_path: Path) -> None:
    npz = PoseSequence.empty(30, np.arange(30) / 30.0, (720, 1280)).save_npz(tmp_path / "empty.npz")
    out = tmp_path / "empty.json"
    proc = _turnout("analyze", "--landmarks", str(npz), "--json", str(out), "-q")
    assert proc.returncode == EXIT_NO_PLIE
    assert "No demi-plié" in proc.stderr
    assert json.loads(out.read_text())["status"] == "no_person"


def test_analyze_missing_file_exits_2(tmp_path: Path) -> None:
    proc = _turnout("analyze", "--landmarks", str(tmp_path / "nope.npz"))
    assert proc.returncode == EXIT_BAD_INPUT
    assert "not found" in proc.stderr
