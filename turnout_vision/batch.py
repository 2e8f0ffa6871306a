"""Unattended scoring of whole folders of videos (``turnout batch DIR``).

* Finds videos recursively (extensions in ``VIDEO_EXTENSIONS``, case-insensitive); other files are
  listed as skipped with a note.
* Scores them in parallel worker processes, each with its own pose model.
* Mirrors the input tree under the output folder: ``IN/class1/anna.mp4`` -> ``OUT/class1/anna/``.
* Resumable: each finished video's folder gets ``batch_done.json`` (written last, atomically) with
  the key (content sha256, model sha256, configuration hash); a re-run skips videos whose key is
  unchanged. ``force=True`` redoes them. An interrupted video has no marker and is redone.
* One bad file never stops the batch: its failure and reason go into the summary.
* Inputs are only read, never modified, moved or deleted.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .errors import TurnoutError

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp", ".mts", ".ts",
})
MARKER = "batch_done.json"
SUMMARY_CSV = "summary.csv"
INDEX_HTML = "index.html"

SUMMARY_COLUMNS = (
    "video", "status", "side", "reps", "foot_rotation_deg", "leg_rotation_deg", "forced_turnout_deg",
    "knee_over_toe", "flags", "warnings", "reason", "report",
)


@dataclass(frozen=True)
class FoundFiles:
    videos: tuple[Path, ...]
    skipped: tuple[Path, ...]


@dataclass
class VideoOutcome:
    """What happened to one video. ``rows`` are its summary rows (one per side when scored)."""

    video: str
    status: str  # "ok", "no_plie", "not_scorable", "failed", "skipped", "cached"
    reason: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)


def find_videos(root: Path) -> FoundFiles:
    """All files under ``root``, split into videos (by extension) and skipped files; sorted."""
    videos, skipped = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        (videos if path.suffix.lower() in VIDEO_EXTENSIONS else skipped).append(path)
    return FoundFiles(tuple(videos), tuple(skipped))


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def config_hash(config: Config) -> str:
    return hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def output_dir_for(video: Path, in_root: Path, out_root: Path) -> Path:
    rel = video.relative_to(in_root)
    return out_root / rel.parent / rel.stem


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------------- one video (in a worker)

_WORKER_SCORER: Callable[..., Any] | None = None


def _score_video(video: Path, out_dir: Path, key: dict[str, str], config_dict: dict[str, Any]) -> VideoOutcome:
    """Runs in a worker process: score one video into ``out_dir`` and write its marker last."""
    from .config import Config
    from .pipeline import analyze_video

    config = Config().merged(config_dict)
    try:
        outcome = analyze_video(video, out_dir, config, quiet=True, force=True)
    except TurnoutError as exc:
        return VideoOutcome(str(video), "failed", str(exc))
    except Exception as exc:  # one bad file never stops the batch
        return VideoOutcome(str(video), "failed", f"{exc.__class__.__name__}: {exc}",
                            rows=[{"trace": traceback.format_exc(limit=3)}])
    result = outcome.result_json
    status = outcome.status
    rows = summary_rows(str(video), status, result, outcome.reason, out_dir)
    _write_atomic(out_dir / MARKER, json.dumps({"key": key, "status": status, "reason": outcome.reason,
                                                "rows": rows}, indent=1))
    return VideoOutcome(str(video), status, outcome.reason, rows)


def summary_rows(video: str, status: str, result: dict[str, Any] | None, reason: str, out_dir: Path) -> list[dict[str, Any]]:
    """One row per side from a result JSON (or one row with the reason when there is no result)."""
    report = str(out_dir / "report.html") if (out_dir / "report.html").exists() else ""
    if not result:
        return [{"video": video, "status": status, "side": "", "reason": reason, "report": report}]
    warnings = "; ".join(w.get("code", str(w)) if isinstance(w, dict) else str(w) for w in result.get("warnings", []))
    rows = []
    for side in ("left", "right"):
        s = (result.get("summary") or {}).get(side) or {}
        rows.append({
            "video": video, "status": status, "side": side, "reps": len(result.get("reps", [])),
            "foot_rotation_deg": _value(s.get("foot_rotation_deg")),
            "leg_rotation_deg": _value(s.get("leg_rotation_deg")),
            "forced_turnout_deg": _value(s.get("forced_turnout_deg")),
            "knee_over_toe": _value(s.get("knee_over_toe")),
            "flags": ";".join(_flag_names(s.get("flags"))),
            "warnings": warnings, "reason": reason, "report": report,
        })
    return rows


def _value(item: Any) -> Any:
    """A reported value as a plain number (results wrap numbers with their uncertainty)."""
    if isinstance(item, dict):
        for key in ("value", "ratio", "offset_ratio", "deg"):
            if key in item:
                return _value(item[key])
        return ""
    if isinstance(item, float):
        return round(item, 2)
    return "" if item is None else item


def _flag_names(flags: Any) -> list[str]:
    if isinstance(flags, dict):
        return [k for k, v in flags.items() if v is True or (isinstance(v, dict) and v.get("raised"))]
    if isinstance(flags, list):
        return [f.get("name", str(f)) if isinstance(f, dict) else str(f) for f in flags]
    return []


# ---------------------------------------------------------------------------- the batch

def run_batch(
    in_root: Path,
    out_root: Path,
    config: Config,
    *,
    workers: int | None = None,
    force: bool = False,
    model_sha256: str = "",
    on_done: Callable[[VideoOutcome, int, int], None] | None = None,
) -> list[VideoOutcome]:
    """Score every video under ``in_root`` into ``out_root``; returns one outcome per file found.

    ``on_done(outcome, n_done, n_total)`` is called as each video finishes (for progress output).
    Writes ``summary.csv`` and ``index.html`` into ``out_root`` (atomically) at the end.
    """
    in_root, out_root = in_root.resolve(), out_root.resolve()
    # An output folder inside the input tree is allowed: files under it are never taken as inputs.
    found = find_videos(in_root)
    out_root.mkdir(parents=True, exist_ok=True)
    outcomes: list[VideoOutcome] = [
        VideoOutcome(str(p), "skipped", "not a video file (by its extension)",
                     [{"video": str(p), "status": "skipped", "side": "", "reason": "not a video file"}])
        for p in found.skipped if out_root not in p.parents
    ]
    videos = [v for v in found.videos if out_root not in v.parents]
    total = len(videos)
    cfg_hash, cfg_dict = config_hash(config), config.to_dict()

    jobs: list[tuple[Path, Path, dict[str, str]]] = []
    done = 0
    for video in videos:
        out_dir = output_dir_for(video, in_root, out_root)
        try:
            key = {"content_sha256": file_sha256(video), "model_sha256": model_sha256, "config": cfg_hash}
        except OSError as exc:
            outcome = VideoOutcome(str(video), "failed", f"cannot read the file: {exc.strerror}")
            outcome.rows = summary_rows(str(video), "failed", None, outcome.reason, out_dir)
            outcomes.append(outcome)
            done += 1
            if on_done:
                on_done(outcome, done, total)
            continue
        cached = _cached_outcome(out_dir, key) if not force else None
        if cached is not None:
            outcomes.append(cached)
            done += 1
            if on_done:
                on_done(cached, done, total)
        else:
            jobs.append((video, out_dir, key))

    workers = max(1, workers or os.cpu_count() or 1)
    if jobs:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            pending: dict[Future[VideoOutcome], Path] = {}
            queue: Iterator[tuple[Path, Path, dict[str, str]]] = iter(jobs)

            def submit_next() -> None:
                job = next(queue, None)
                if job is not None:
                    video, out_dir, key = job
                    pending[pool.submit(_score_video, video, out_dir, key, cfg_dict)] = video

            for _ in range(min(workers, len(jobs))):
                submit_next()
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    video = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # a worker died (e.g. killed): record and go on
                        outcome = VideoOutcome(str(video), "failed", f"worker crashed: {exc.__class__.__name__}: {exc}")
                    if not outcome.rows or "trace" in outcome.rows[0]:
                        outcome.rows = summary_rows(outcome.video, outcome.status, None, outcome.reason,
                                                    output_dir_for(video, in_root, out_root))
                    outcomes.append(outcome)
                    done += 1
                    if on_done:
                        on_done(outcome, done, total)
                    submit_next()

    outcomes.sort(key=lambda o: o.video)
    write_summary(outcomes, out_root)
    return outcomes


def _cached_outcome(out_dir: Path, key: dict[str, str]) -> VideoOutcome | None:
    marker = out_dir / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("key") != key:
        return None
    return VideoOutcome(data["rows"][0]["video"] if data.get("rows") else str(out_dir), data.get("status", "ok"),
                        data.get("reason", ""), data.get("rows", []))


def write_summary(outcomes: list[VideoOutcome], out_root: Path) -> None:
    """``summary.csv`` (one row per video and side) and a sortable, filterable ``index.html``."""
    rows = [row for o in outcomes for row in o.rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in SUMMARY_COLUMNS})
    _write_atomic(out_root / SUMMARY_CSV, buffer.getvalue())
    _write_atomic(out_root / INDEX_HTML, _index_html(rows, out_root))


def _index_html(rows: list[dict[str, Any]], out_root: Path) -> str:
    head = "".join(f'<th onclick="sortBy({i})">{html.escape(c)}</th>' for i, c in enumerate(SUMMARY_COLUMNS))
    body = []
    for row in rows:
        cells = []
        for c in SUMMARY_COLUMNS:
            value = row.get(c, "")
            if c == "report" and value:
                rel = os.path.relpath(value, out_root)
                cells.append(f'<td><a href="{html.escape(rel)}">report</a></td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        body.append(f'<tr class="{html.escape(str(row.get("status", "")))}">{"".join(cells)}</tr>')
    return _INDEX_TEMPLATE.replace("{head}", head).replace("{body}", "\n".join(body)).replace("{n}", str(len(rows)))


_INDEX_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>turnout_vision batch summary</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f0f0f0;cursor:pointer;user-select:none}
tr.failed td{background:#fde8e8} tr.skipped td{color:#888}
input{font-size:15px;padding:4px;width:24em;margin-bottom:1em}
</style></head><body>
<h1>Batch summary</h1>
<p>{n} rows. Click a column to sort; type to filter.</p>
<input id="filter" placeholder="filter, e.g. forced_turnout or failed" oninput="filterRows()">
<table id="t"><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
<script>
let dir = 1;
function sortBy(i){
  const tb=document.querySelector('#t tbody'); const rows=[...tb.rows];
  rows.sort((a,b)=>{const x=a.cells[i].innerText,y=b.cells[i].innerText;
    const nx=parseFloat(x),ny=parseFloat(y);
    return (isNaN(nx)||isNaN(ny)? x.localeCompare(y) : nx-ny)*dir;});
  dir=-dir; rows.forEach(r=>tb.appendChild(r));
}
function filterRows(){
  const q=document.getElementById('filter').value.toLowerCase();
  for(const r of document.querySelectorAll('#t tbody tr')) r.style.display=r.innerText.toLowerCase().includes(q)?'':'none';
}
</script></body></html>
"""
