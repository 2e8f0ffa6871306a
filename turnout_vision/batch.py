"""Unattended scoring of whole folders of videos (``turnout batch DIR``).

>>> result = run_batch(Path("classes"), workers=2)          # doctest: +SKIP
>>> result.out_root, result.n_failed, result.exit_code       # doctest: +SKIP
(PosixPath('classes_turnout'), 1, 5)

What it does:

* **Finds** videos recursively: files whose extension is in ``VIDEO_EXTENSIONS`` (any case). Other
  files get a "skipped" row with a note. Names starting with "." (hidden files and folders) and
  symbolic links to folders are ignored; so is the output folder when it lies inside ``DIR``.
* **Scores** them with ``pipeline.analyze_video`` in ``workers`` worker processes (spawned; each
  loads its own pose model once and scores one video after another).
* **Mirrors** the input tree under the output folder (default ``<DIR>_turnout`` beside ``DIR``,
  never inside it): ``DIR/class1/anna.mp4`` -> ``OUT/class1/anna/`` holding the report, annotated
  video, CSV and JSON (see ``pipeline``) and ``batch_done.json``. Two videos that would share a
  folder (``anna.mp4`` and ``anna.mov``, or a video and a subfolder both called ``anna``) get
  ``anna_mp4/`` and ``anna_mov/`` instead.
* **Summarises**: ``OUT/summary.csv`` (one row per video and side, ``SUMMARY_COLUMNS``) and
  ``OUT/index.html`` (the same table, sortable and filterable, linking to each report). Both are
  rewritten as the batch goes (videos still to do are "pending") and at the end.
* **Resumes**: a video is skipped when its folder holds ``batch_done.json`` with the same key:
  sha256 of the file's content, sha256 of the pose model and sha256 of the configuration (the
  ``model.task_path`` entry left out: the model's checksum stands for it). ``force=True`` redoes
  every video. Failed videos are tried again on every run.
* **Never leaves half a result**: a video is scored into a hidden temporary folder
  (``OUT/class1/.anna.partial-PID``) that is renamed to ``anna/`` when everything in it, marker
  last, is written. A folder that exists under its final name is complete; stale temporary folders
  are removed by the next run. ``summary.csv`` and ``index.html`` are written to a temporary name
  and renamed. Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the workers, remove their temporary folders
  and write the summary; after SIGKILL the workers notice within a second and stop.
* **One bad file never stops the batch**: an exception, or a worker process that dies (a crash in
  native code), makes that video "failed" with the reason; the batch goes on with a new worker.
* **Inputs are only read**: never modified, moved or deleted. An existing folder in the output
  tree is replaced only when it is one this module wrote (it holds ``batch_done.json``, or only
  report files); otherwise that video fails with a reason instead.

Statuses: "ok", "no_plie", "not_scorable" (scored; see ``pipeline``), "failed", "skipped" (not a
video) and, in summaries written while the batch runs or after an interruption, "pending".
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import html
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config
from .errors import EXIT_OK, EXIT_SOME_FAILED, InputError, TurnoutError

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp", ".mts", ".m2ts",
    ".ts", ".flv", ".ogv",
})
"""File extensions taken as videos (compared in lower case)."""
MARKER = "batch_done.json"
SUMMARY_CSV = "summary.csv"
INDEX_HTML = "index.html"
DEFAULT_OUT_SUFFIX = "_turnout"
LOCK_FILE = ".turnout_batch.lock"
SCORED = frozenset({"ok", "no_plie", "not_scorable"})
"""Statuses of a video that was analysed (whether or not a plié could be scored)."""

SUMMARY_COLUMNS = (
    "video", "side", "status", "reps",
    "foot_rotation_deg", "foot_rotation_sd", "leg_rotation_deg", "leg_rotation_sd",
    "forced_turnout_deg", "forced_turnout_sd", "knee_over_toe_ratio",
    "flags", "warnings", "reason", "report",
)
"""``summary.csv`` columns. ``video``: path relative to the input folder (``/`` separators);
``side``: "left"/"right" (the dancer's own), empty for a video without a result; angles in degrees
with their one-sigma uncertainty (``_sd``), at the bottom of the pliés (medians over reps, as the
result's ``summary``); ``knee_over_toe_ratio``: knee offset from the foot line in foot lengths,
+ = outside; ``flags``: raised flags of that side (and of both sides) separated by ";";
``warnings``: codes of the analysis warnings and recording issues; ``reason``: why a video was not
scored or failed; ``report``: the report's path relative to the output folder."""

_SUMMARY_EVERY_S = 5.0
_CACHE_VERSION = 1
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?:partial|old)-\d+$")
_RESERVED_TOP = frozenset({SUMMARY_CSV, INDEX_HTML, LOCK_FILE})


class BatchFailedError(TurnoutError):
    """Some videos of a batch failed (the others were scored); exit code 5."""

    exit_code = EXIT_SOME_FAILED


class BatchInterrupted(KeyboardInterrupt):
    """The batch was stopped by SIGINT, SIGTERM or SIGHUP (the summary was written first)."""


# ------------------------------------------------------------------------------------------ finding files

@dataclass(frozen=True)
class FoundFiles:
    """Files under the input folder, sorted: ``videos`` and ``skipped`` (non-video) absolute paths."""

    videos: tuple[Path, ...]
    skipped: tuple[Path, ...]


def find_videos(root: Path, exclude: Path | None = None) -> FoundFiles:
    """Every file under ``root`` split into videos (by extension, any case) and other files.

    Hidden names (starting with ".") and symbolic links to folders are not entered; ``exclude``
    (the output folder, when it lies inside ``root``) is not entered either.
    """
    root = Path(root)
    exclude_r = exclude.resolve() if exclude is not None else None
    videos: list[Path] = []
    skipped: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() != exclude_r)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = here / name
            (videos if path.suffix.lower() in VIDEO_EXTENSIONS else skipped).append(path)
    return FoundFiles(tuple(sorted(videos)), tuple(sorted(skipped)))


def default_out_root(in_root: Path) -> Path:
    """``<DIR>_turnout`` beside the input folder (``classes/`` -> ``classes_turnout/``)."""
    in_root = Path(in_root).resolve()
    if not in_root.name:
        raise InputError(f"There is no default output folder for {in_root}.", "Choose one with --out.")
    return in_root.with_name(in_root.name + DEFAULT_OUT_SUFFIX)


def output_dirs(videos: tuple[Path, ...] | list[Path], in_root: Path, out_root: Path) -> dict[Path, Path]:
    """Each video's output folder: ``OUT/<relative folder>/<stem>``; ``<stem>_<ext>`` for videos whose
    stem is shared (case-insensitively) with another video or a subfolder in the same folder."""
    in_root = Path(in_root)
    by_folder: dict[Path, list[Path]] = {}
    for video in videos:
        by_folder.setdefault(video.parent, []).append(video)
    out: dict[Path, Path] = {}
    for folder, members in by_folder.items():
        taken: dict[str, int] = {}
        for video in members:
            taken[video.stem.lower()] = taken.get(video.stem.lower(), 0) + 1
        try:
            subfolders = {p.name.lower() for p in folder.iterdir() if p.is_dir()}
        except OSError:
            subfolders = set()
        rel_folder = folder.relative_to(in_root)
        reserved = {n.lower() for n in _RESERVED_TOP} if rel_folder == Path(".") else set()
        for video in members:
            stem = video.stem
            if taken[stem.lower()] > 1 or stem.lower() in subfolders or stem.lower() in reserved or not stem:
                stem = f"{video.stem}_{video.suffix[1:]}"
            out[video] = Path(out_root) / rel_folder / stem
    return out


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# ------------------------------------------------------------------------------------------ resume key

def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def config_sha256(config: Config) -> str:
    """sha256 of the configuration that changes results (``model.task_path`` left out: the model's
    own checksum is part of the key)."""
    data = config.to_dict()
    data["model"] = {k: v for k, v in data["model"].items() if k != "task_path"}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def resume_key(content_sha256: str, model_sha256: str, config: Config) -> dict[str, Any]:
    """What must be unchanged for a finished video to be skipped."""
    return {"cache_version": _CACHE_VERSION, "content_sha256": content_sha256, "model_sha256": model_sha256,
            "config_sha256": config_sha256(config)}


# ------------------------------------------------------------------------------------------ outcomes

@dataclass
class VideoOutcome:
    """What happened to one input file.

    ``video``: path relative to the input folder; ``out_dir``: its output folder relative to the
    output folder ("" when none); ``rows``: its summary rows; ``cached``: skipped because its result
    was already there; ``seconds``/``peak_rss_mb``: the worker's time and peak memory (0 if cached).
    """

    video: str
    status: str
    reason: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    out_dir: str = ""
    cached: bool = False
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True)
class BatchResult:
    """All outcomes (sorted by path), where the summaries are, and the exit code."""

    in_root: Path
    out_root: Path
    outcomes: tuple[VideoOutcome, ...]
    seconds: float

    @property
    def summary_csv(self) -> Path:
        return self.out_root / SUMMARY_CSV

    @property
    def index_html(self) -> Path:
        return self.out_root / INDEX_HTML

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def n_videos(self) -> int:
        return sum(o.status != "skipped" for o in self.outcomes)

    @property
    def n_failed(self) -> int:
        return self.count("failed")

    @property
    def n_cached(self) -> int:
        return sum(o.cached for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0, or 5 (``EXIT_SOME_FAILED``) when any video failed. Videos without a scorable plié
        are not failures (their status says so)."""
        return EXIT_SOME_FAILED if self.n_failed else EXIT_OK


def summary_rows(video: str, status: str, reason: str, result: Mapping[str, Any] | None,
                 report: str = "") -> list[dict[str, Any]]:
    """The summary rows of one video: one per side from its result JSON (``pipeline`` adds
    ``recording`` to ``analysis.result``'s form), or one row with the reason when it has none."""
    base = {"video": video, "status": status, "reason": reason, "report": report}
    if not result:
        return [{**base, "side": ""}]
    summary = result.get("summary") or {}
    warnings = [w.get("code", "") for w in result.get("warnings") or []]
    warnings += [i.get("code", "") for i in (result.get("recording") or {}).get("issues") or []]
    reps = summary.get("n_reps", len(result.get("reps") or []))
    rows = []
    for side in ("left", "right"):
        s = summary.get(side) or {}
        names = [f.get("name", "") for f in result.get("flags") or [] if f.get("side") in (side, None)]
        names += [f.get("name", "") for f in s.get("flags") or []]
        rows.append({
            **base, "side": side, "reps": reps,
            "foot_rotation_deg": _num(s, "foot_rotation_deg", "value"),
            "foot_rotation_sd": _num(s, "foot_rotation_deg", "sd"),
            "leg_rotation_deg": _num(s, "leg_rotation_deg", "value"),
            "leg_rotation_sd": _num(s, "leg_rotation_deg", "sd"),
            "forced_turnout_deg": _num(s, "forced_turnout_deg", "value"),
            "forced_turnout_sd": _num(s, "forced_turnout_deg", "sd"),
            "knee_over_toe_ratio": _num(s.get("knee_over_toe") or {}, "ratio", "value", ndigits=3),
            "flags": ";".join(dict.fromkeys(n for n in names if n)),
            "warnings": ";".join(dict.fromkeys(w for w in warnings if w)),
        })
    return rows


def _num(obj: Mapping[str, Any], key: str, part: str, ndigits: int = 1) -> float | str:
    """``obj[key][part]`` (a result value object) rounded, or "" when unknown."""
    item = obj.get(key)
    v = item.get(part) if isinstance(item, Mapping) else None
    return round(float(v), ndigits) if isinstance(v, int | float) and not isinstance(v, bool) else ""


def _pending(video: str) -> VideoOutcome:
    reason = "not scored yet (run the same command again to finish)"
    return VideoOutcome(video, "pending", reason, summary_rows(video, "pending", reason, None))


# ------------------------------------------------------------------------------------------ the batch

def run_batch(
    in_root: str | Path,
    out_root: str | Path | None = None,
    config: Config | None = None,
    *,
    workers: int | None = None,
    force: bool = False,
    model_sha256: str | None = None,
    on_start: Callable[[FoundFiles, Path], None] | None = None,
    on_done: Callable[[VideoOutcome, int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> BatchResult:
    """Score every video under ``in_root`` into ``out_root`` (see the module docstring).

    ``workers``: worker processes (default: the number of CPU cores); ``model_sha256``: the pose
    model's checksum for the resume key (default: resolved, and built if missing, from
    ``config.model``); ``on_start(found, out_root)`` is called once the files are found;
    ``on_done(outcome, n_done, n_videos)`` as each video finishes (skipped non-videos are not
    counted). ``InputError`` for an unusable input or output folder, ``ModelError`` for the model;
    a stop by signal raises ``BatchInterrupted`` after writing the summary.
    """
    t0 = time.perf_counter()
    config = config or Config()
    in_root = Path(in_root).expanduser()
    if not in_root.is_dir():
        raise InputError(f"{in_root} is not a folder." if in_root.exists() else f"Folder not found: {in_root}.",
                         "Give the folder that holds the videos (`turnout analyze` takes one video).")
    in_root = in_root.resolve()
    out_root = Path(out_root).expanduser().resolve() if out_root is not None else default_out_root(in_root)
    if out_root == in_root or out_root in in_root.parents:
        raise InputError(f"The output folder {out_root} holds the input folder {in_root}.",
                         "Choose an output folder outside it with --out (the default is beside it).")
    found = find_videos(in_root, exclude=out_root)
    if not found.videos:
        raise InputError(f"No videos were found under {in_root} "
                         f"(extensions: {', '.join(sorted(VIDEO_EXTENSIONS))}).", "Check the folder.")
    if model_sha256 is None:
        from .pose_model import resolve_for_config

        model_sha256 = resolve_for_config(config.model, log=log).sha256
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the output folder {out_root}: {exc.strerror}.", "Choose another with --out.") from None
    if on_start is not None:
        on_start(found, out_root)

    with _lock(out_root):
        dirs = output_dirs(found.videos, in_root, out_root)
        outcomes: dict[str, VideoOutcome] = {}
        for path in found.skipped:
            rel = _rel(path, in_root)
            reason = f"not a video (extension {path.suffix or 'none'})"
            outcomes[rel] = VideoOutcome(rel, "skipped", reason, summary_rows(rel, "skipped", reason, None))
        for video in found.videos:
            outcomes[_rel(video, in_root)] = _pending(_rel(video, in_root))
        summary = _SummaryWriter(out_root, outcomes)
        done = 0
        total = len(found.videos)

        def finished(outcome: VideoOutcome) -> None:
            nonlocal done
            done += 1
            outcomes[outcome.video] = outcome
            summary.maybe_write()
            if on_done is not None:
                on_done(outcome, done, total)

        n_workers = max(1, workers or os.cpu_count() or 1)
        with _WorkerPool(n_workers) as pool, _signals_raise_interrupt():
            try:
                for video in found.videos:
                    rel = _rel(video, in_root)
                    out_dir = dirs[video]
                    _remove_stale_temp(out_dir)
                    try:
                        key = resume_key(file_sha256(video), model_sha256, config)
                    except OSError as exc:
                        reason = f"cannot read the file: {exc.strerror or exc}"
                        finished(VideoOutcome(rel, "failed", reason, summary_rows(rel, "failed", reason, None)))
                        continue
                    cached = None if force else _cached_outcome(rel, out_dir, out_root, key)
                    if cached is not None:
                        finished(cached)
                        continue
                    while not pool.has_room():
                        for outcome in pool.collect():
                            finished(outcome)
                    pool.submit(_Job(video, rel, out_dir, out_root, key, config))
                while pool.busy():
                    for outcome in pool.collect():
                        finished(outcome)
            except BaseException:
                pool.stop()
                summary.write()
                raise
        summary.write()
    ordered = tuple(outcomes[k] for k in sorted(outcomes))
    return BatchResult(in_root, out_root, ordered, time.perf_counter() - t0)


class _SummaryWriter:
    """Rewrites ``summary.csv`` and ``index.html`` from the outcomes (at most every few seconds while
    the batch runs; ``write()`` always)."""

    def __init__(self, out_root: Path, outcomes: dict[str, VideoOutcome]) -> None:
        self.out_root, self.outcomes, self.last = out_root, outcomes, 0.0

    def maybe_write(self) -> None:
        if time.monotonic() - self.last >= _SUMMARY_EVERY_S:
            self.write()

    def write(self) -> None:
        write_summary([self.outcomes[k] for k in sorted(self.outcomes)], self.out_root)
        self.last = time.monotonic()

