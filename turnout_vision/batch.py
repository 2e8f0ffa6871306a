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
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    "video", "dancer", "side", "status", "reps",
    "foot_rotation_deg", "foot_rotation_sd", "leg_rotation_deg", "leg_rotation_sd",
    "forced_turnout_deg", "forced_turnout_sd", "knee_over_toe_ratio",
    "flags", "warnings", "reason", "report",
)
"""``summary.csv`` columns. ``video``: path relative to the input folder (``/`` separators);
``dancer``: her label in a class video (``model.num_poses`` > 1, see ``multi``), else empty; ``side``: "left"/"right" (the dancer's own), empty for a video without a result; angles in degrees
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


def default_workers() -> int:
    """The CPU cores this process may use (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


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
    """The summary rows of one video from its result JSON: one per side (``pipeline`` adds
    ``recording`` to ``analysis.result``'s form); for a class video (``result["dancers"]``, see
    ``multi``) one per dancer and side, with her own status and reason; one row with the reason
    when there is no result (or no dancer)."""
    base = {"video": video, "dancer": "", "status": status, "reason": reason, "report": report}
    if not result:
        return [{**base, "side": ""}]
    dancers = result.get("dancers")
    if dancers is None:
        return _side_rows(base, result)
    rows = []
    for d in dancers:
        verdict = d.get("verdict") or {}
        label = d.get("label") or d.get("id", "")
        rows += _side_rows({**base, "dancer": str(label), "status": verdict.get("status") or status,
                            "reason": verdict.get("reason") or ""}, d)
    return rows or [{**base, "side": ""}]


def _side_rows(base: Mapping[str, Any], result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Left and right rows from one dancer's result (``summary``, ``flags``, ``warnings``, ``recording``)."""
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

    ``workers``: worker processes (default: ``default_workers()``, the CPU cores); ``model_sha256``: the pose
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
    with _lock(out_root):
        if on_start is not None:
            on_start(found, out_root)
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

        n_workers = max(1, workers or default_workers())
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
                    pool.submit(VideoJob(video, rel, out_dir, out_root, key, config))
                while pool.busy():
                    for outcome in pool.collect():
                        finished(outcome)
            except BaseException:
                pool.stop()
                try:
                    summary.write()
                except OSError:
                    pass  # the original error matters more
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



@contextmanager
def _lock(out_root: Path) -> Iterator[None]:
    """One batch at a time per output folder (an advisory lock that the system drops when the
    process ends, however it ends)."""
    fh = (out_root / LOCK_FILE).open("a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"Another `turnout batch` is writing into {out_root}.",
                             "Wait for it to finish, or choose another folder with --out.") from None
        yield
    finally:
        fh.close()


@contextmanager
def _signals_raise_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``BatchInterrupted`` in the main thread, as Ctrl-C does, so that the
    workers are stopped and the summary written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise BatchInterrupted(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _temp_dir(out_dir: Path, kind: str, pid: int) -> Path:
    return out_dir.parent / f".{out_dir.name}.{kind}-{pid}"


def _remove_stale_temp(out_dir: Path) -> None:
    """Remove temporary folders of ``out_dir`` left by an earlier run that was killed."""
    try:
        entries = list(out_dir.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if m and m["name"] == out_dir.name and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _read_marker(out_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _cached_outcome(rel: str, out_dir: Path, out_root: Path, key: Mapping[str, Any]) -> VideoOutcome | None:
    """The finished outcome in ``out_dir`` if its marker's key is ``key`` (rows re-read from its
    ``result.json``); None when it must be scored."""
    marker = _read_marker(out_dir)
    if marker is None or marker.get("key") != dict(key) or marker.get("status") not in SCORED:
        return None
    try:
        result = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rel_dir = _rel(out_dir, out_root)
    report = f"{rel_dir}/report.html" if (out_dir / "report.html").is_file() else ""
    status, reason = str(marker["status"]), str(marker.get("reason") or "")
    return VideoOutcome(rel, status, reason, summary_rows(rel, status, reason, result, report), rel_dir, cached=True)


# ------------------------------------------------------------------------------------------ one video (in a worker)

@dataclass(frozen=True)
class VideoJob:
    """One video to score: its path, its path relative to the input folder, its final output folder,
    the output root, its resume key (written into the marker) and the configuration."""

    video: Path
    rel: str
    out_dir: Path
    out_root: Path
    key: Mapping[str, Any]
    config: Config


def _check_replaceable(out_dir: Path) -> None:
    """``InputError`` unless ``out_dir`` is absent, empty, or a folder this module or the pipeline wrote."""
    if not (out_dir.exists() or out_dir.is_symlink()):
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a folder.", "Move it away, or choose another --out.")
    if (out_dir / MARKER).is_file():
        return
    from .pipeline import OUTPUT_NAMES

    ours = set(OUTPUT_NAMES.values()) | {MARKER}
    try:
        from .multi import CLASS_OUTPUT_NAMES

        ours |= set(CLASS_OUTPUT_NAMES.values())
    except ImportError:  # pragma: no cover - class videos not available
        pass
    foreign = [p.name for p in out_dir.iterdir()
               if p.name not in ours and ".partial" not in p.name and not re.fullmatch(r"dancer_\d+", p.name)]
    if foreign:
        raise InputError(f"The output folder {out_dir} already holds files that turnout did not write "
                         f"({', '.join(sorted(foreign)[:3])}).", "Move them away, or choose another --out.")


def _swap_in(tmp: Path, final: Path) -> None:
    """Rename the finished folder ``tmp`` to ``final``, replacing an earlier result there."""
    if final.exists() or final.is_symlink():
        old = _temp_dir(final, "old", os.getpid())
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _reason(exc: BaseException) -> str:
    """One line for the summary."""
    text = str(exc) if isinstance(exc, TurnoutError) else f"{exc.__class__.__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def score_one(job: VideoJob) -> VideoOutcome:
    """Score one video into a temporary folder beside its output folder and rename it into place
    when complete (marker last). Any exception becomes a "failed" outcome."""
    t0 = time.perf_counter()
    tmp = _temp_dir(job.out_dir, "partial", os.getpid())
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        from .pipeline import analyze_video

        job.out_dir.parent.mkdir(parents=True, exist_ok=True)
        _check_replaceable(job.out_dir)
        outcome = analyze_video(job.video, tmp, job.config, quiet=True, force=True)
        rel_dir = _rel(job.out_dir, job.out_root)
        report = f"{rel_dir}/report.html" if "html" in outcome.files else ""
        seconds = time.perf_counter() - t0
        marker = {"key": dict(job.key), "video": job.rel, "status": outcome.status, "reason": outcome.reason,
                  "seconds": round(seconds, 2), "tool_version": __version__,
                  "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_text_atomic(tmp / MARKER, json.dumps(marker, indent=1) + "\n")
        _swap_in(tmp, job.out_dir)
        rows = summary_rows(job.rel, outcome.status, outcome.reason, outcome.result_json, report)
        return VideoOutcome(job.rel, outcome.status, outcome.reason, rows, rel_dir, seconds=seconds,
                            peak_rss_mb=_peak_rss_mb())
    except Exception as exc:  # one bad file never stops the batch
        shutil.rmtree(tmp, ignore_errors=True)
        reason = _reason(exc).replace(str(job.video), job.rel)  # the same wherever the folders are
        return VideoOutcome(job.rel, "failed", reason, summary_rows(job.rel, "failed", reason, None),
                            seconds=time.perf_counter() - t0, peak_rss_mb=_peak_rss_mb())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def _worker_main(conn: Connection, log_path: str | None, parent_pid: int) -> None:
    """A worker process: score the jobs sent over ``conn`` until it sends None or closes.

    SIGINT and SIGHUP are left to the parent (it stops the workers); SIGTERM raises SystemExit so the
    current video's temporary folder is removed. The worker stops itself when its parent dies.
    Native logs go to ``log_path`` (truncated at each job; the parent reads it if the worker dies).
    """
    os.setpgrp()  # Ctrl-C in a terminal reaches the parent only
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if log_path is not None:
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)

    def watch_parent() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        if log_path is not None:
            Path(log_path).unlink(missing_ok=True)  # the parent can no longer remove it
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch_parent, name="turnout-watch-parent", daemon=True).start()
    import cv2

    cv2.setNumThreads(1)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if log_path is not None:
            os.ftruncate(2, 0)
        outcome = score_one(job)
        try:
            conn.send(outcome)
        except OSError:
            return


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.log_path: str | None = None
        if not os.environ.get("TURNOUT_NATIVE_LOGS"):
            fd, self.log_path = tempfile.mkstemp(prefix="turnout-worker-", suffix=".log")
            os.close(fd)
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, self.log_path, os.getpid()),
                                   name="turnout-batch-worker", daemon=True)
        # one thread per math library in each worker: the workers are the parallelism. Set in the
        # environment the worker starts with, as the libraries read it when they are imported.
        saved = {name: os.environ.get(name) for name in _THREAD_ENV}
        for name in _THREAD_ENV:
            os.environ.setdefault(name, "1")
        try:
            self.process.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        child.close()
        self.job: VideoJob | None = None

    def crash_outcome(self) -> VideoOutcome:
        """The current job as failed because this worker died."""
        assert self.job is not None
        self.process.join(2)
        code = self.process.exitcode
        how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
               and -code in signal.valid_signals() else f"exit code {code}")
        reason = f"the worker process died while scoring this file ({how})"
        tail = self.log_tail()
        if tail:
            reason += f"; its last output: {tail}"
        reason = _reason(RuntimeError(reason)).removeprefix("RuntimeError: ")
        shutil.rmtree(_temp_dir(self.job.out_dir, "partial", self.process.pid or 0), ignore_errors=True)
        rel = self.job.rel
        return VideoOutcome(rel, "failed", reason, summary_rows(rel, "failed", reason, None))

    def log_tail(self, n_chars: int = 300) -> str:
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - n_chars))
                return " ".join(fh.read().decode(errors="replace").split())
        except OSError:
            return ""

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM (the worker removes its temporary folder), then SIGKILL if it does not stop."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout_s)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(timeout_s)
        if self.job is not None:
            shutil.rmtree(_temp_dir(self.job.out_dir, "partial", self.process.pid or 0), ignore_errors=True)
        self.close_files()

    def close_files(self) -> None:
        self.conn.close()
        if self.log_path is not None:
            Path(self.log_path).unlink(missing_ok=True)


class _WorkerPool:
    """Up to ``size`` worker processes, started when first needed. Each has its own pipe, so that a
    worker that dies is matched to the video it was scoring and replaced by a new one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.ctx = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []

    def __enter__(self) -> _WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has_room(self) -> bool:
        return len(self.workers) < self.size or any(w.job is None for w in self.workers)

    def busy(self) -> bool:
        return any(w.job is not None for w in self.workers)

    def submit(self, job: VideoJob) -> None:
        worker = next((w for w in self.workers if w.job is None), None)
        if worker is None:
            worker = _Worker(self.ctx)
            self.workers.append(worker)
        worker.job = job
        try:
            worker.conn.send(job)
        except OSError:
            pass  # it died before taking the job: collect() reports it

    def collect(self, timeout_s: float | None = None) -> list[VideoOutcome]:
        """Wait until at least one busy worker is done (or has died) and return those outcomes."""
        busy = [w for w in self.workers if w.job is not None]
        if not busy:
            return []
        wait_ready([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout_s)
        outcomes = []
        for worker in busy:
            outcome = None
            try:
                if worker.conn.poll():
                    outcome = worker.conn.recv()
            except (EOFError, OSError):
                outcome = None
            if outcome is None and worker.process.is_alive():
                continue  # still working
            if outcome is None:
                outcome = worker.crash_outcome()
                worker.stop()
                self.workers.remove(worker)
            worker.job = None
            outcomes.append(outcome)
        return outcomes

    def stop(self) -> None:
        """Stop every worker now (interruption): their current videos are abandoned."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in self.workers:
            worker.stop()
        self.workers.clear()

    def close(self) -> None:
        """Let idle workers exit; stop any that do not."""
        for worker in self.workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self.workers:
            worker.process.join(10)
            worker.stop()
        self.workers.clear()


# ------------------------------------------------------------------------------------------ summaries

def write_summary(outcomes: list[VideoOutcome], out_root: Path) -> None:
    """``summary.csv`` (``SUMMARY_COLUMNS``, one row per video and side) and ``index.html``, each
    written to a temporary name and renamed."""
    rows = [row for o in outcomes for row in o.rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in SUMMARY_COLUMNS})
    _write_text_atomic(out_root / SUMMARY_CSV, buffer.getvalue())
    _write_text_atomic(out_root / INDEX_HTML, index_html(rows))


def index_html(rows: list[dict[str, Any]]) -> str:
    """A self-contained page with the summary table: click a heading to sort (numbers as numbers),
    type to filter, pick a status; each report linked (paths relative to the output folder)."""
    head = "".join(f'<th data-col="{i}">{html.escape(c)}</th>' for i, c in enumerate(SUMMARY_COLUMNS))
    body = []
    for row in rows:
        cells = []
        for c in SUMMARY_COLUMNS:
            v = row.get(c, "")
            if c == "report" and v:
                cells.append(f'<td><a href="{html.escape(str(v), quote=True)}">report</a></td>')
            elif c == "video" and row.get("report"):
                href = html.escape(str(row["report"]), quote=True)
                cells.append(f'<td><a href="{href}">{html.escape(str(v))}</a></td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append(f'<tr data-status="{html.escape(str(row.get("status", "")), quote=True)}">{"".join(cells)}</tr>')
    statuses = sorted({str(r.get("status", "")) for r in rows})
    options = "".join(f'<option value="{html.escape(s, quote=True)}">{html.escape(s)}</option>' for s in statuses)
    counts = ", ".join(f"{sum(str(r.get('status')) == s for r in rows)} {html.escape(s)}" for s in statuses)
    return (_INDEX_TEMPLATE.replace("{head}", head).replace("{body}", "\n".join(body))
            .replace("{options}", options).replace("{counts}", counts).replace("{n}", str(len(rows))))


_INDEX_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>turnout_vision batch summary</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
td{max-width:28em;overflow-wrap:anywhere}
th{background:#f0f0f0;cursor:pointer;user-select:none;position:sticky;top:0}
th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
tr[data-status=failed] td{background:#fde8e8} tr[data-status=skipped] td,tr[data-status=pending] td{color:#888}
tr[data-status=no_plie] td,tr[data-status=not_scorable] td{background:#fff7e0}
input,select{font-size:15px;padding:4px;margin:0 .5em 1em 0} input{width:24em}
</style></head><body>
<h1>Batch summary</h1>
<p>{n} rows ({counts}): one per video and side. Click a heading to sort; type to filter.
Angles in degrees at the bottom of the pliés, with their uncertainty (sd).</p>
<input id="q" type="search" placeholder="filter, e.g. forced_turnout or class1/" aria-label="filter">
<select id="status" aria-label="status"><option value="">any status</option>{options}</select>
<span id="shown"></span>
<table id="t"><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
<script>
const tb=document.querySelector('#t tbody'), q=document.getElementById('q'), st=document.getElementById('status');
let sortCol=-1, dir=1;
document.querySelectorAll('#t th').forEach(th=>th.addEventListener('click',()=>{
  const i=+th.dataset.col; dir=(i===sortCol)?-dir:1; sortCol=i;
  document.querySelectorAll('#t th').forEach(h=>h.className='');
  th.className=dir>0?'asc':'desc';
  const rows=[...tb.rows];
  rows.sort((a,b)=>{const x=a.cells[i].innerText.trim(),y=b.cells[i].innerText.trim();
    const nx=parseFloat(x),ny=parseFloat(y), ex=x==='', ey=y==='';
    if(ex||ey) return ex-ey;  // empty cells last
    return (isNaN(nx)||isNaN(ny)? x.localeCompare(y) : nx-ny)*dir;});
  rows.forEach(r=>tb.appendChild(r));
}));
function filterRows(){
  const s=q.value.toLowerCase(), v=st.value; let n=0;
  for(const r of tb.rows){const show=r.innerText.toLowerCase().includes(s)&&(!v||r.dataset.status===v);
    r.style.display=show?'':'none'; n+=show;}
  document.getElementById('shown').textContent=n+' shown';
}
q.addEventListener('input',filterRows); st.addEventListener('change',filterRows); filterRows();
</script></body></html>
"""


__all__ = ["INDEX_HTML", "MARKER", "SUMMARY_COLUMNS", "SUMMARY_CSV", "VIDEO_EXTENSIONS", "BatchFailedError",
           "BatchInterrupted", "BatchResult", "FoundFiles", "VideoJob", "VideoOutcome", "config_sha256",
           "default_out_root", "default_workers", "file_sha256", "find_videos", "output_dirs", "resume_key",
           "run_batch", "score_one", "summary_rows", "write_summary"]
