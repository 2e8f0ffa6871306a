"""The ``turnout`` command line. It only parses options and calls library functions.

Errors reach the user as one sentence with the fix (``TurnoutError``) and a documented exit code
(``errors.py``); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from . import __version__
from .config import Config, load_config
from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, TurnoutError

app = typer.Typer(
    name="turnout",
    help="Measure forced turnout in ballet demi-pliés from one camera.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="Build, check or locate the pose model.", no_args_is_help=True)
app.add_typer(model_app, name="model")

err = Console(stderr=True, highlight=False)
_state = {"debug": False}

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="TOML file overriding the defaults (see `turnout config`).")]
TaskOpt = Annotated[Optional[Path], typer.Option("--model", help="Official pose_landmarker .task file to use instead of the built model (env: TURNOUT_MODEL_TASK).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or messages; errors only.")]


def effective_config(config_path: Path | None, **overrides: object) -> Config:
    """Defaults -> TOML -> CLI flags (dotted keys; None = flag not given)."""
    return load_config(config_path, overrides)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    _state["debug"] = debug
    if version:
        typer.echo(f"turnout_vision {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


@app.command("config")
def config_cmd(config: ConfigOpt = None) -> None:
    """Print the effective configuration as TOML (defaults, overridden by --config)."""
    import tomli_w

    data = load_config(config).to_dict()
    typer.echo(tomli_w.dumps(_drop_none(data)), nl=False)


ComplexityOpt = Annotated[Optional[str], typer.Option("--complexity", help="Pose model: lite, full (default; built from PyPI) or heavy (lite/heavy need --model).")]


@app.command("extract")
def extract_cmd(
    video: Annotated[str, typer.Argument(help="Video file, image folder, image glob ('frames/*.png') or camera index.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Landmark file to write (.npz).")],
    config: ConfigOpt = None,
    model: TaskOpt = None,
    complexity: ComplexityOpt = None,
    fps: Annotated[Optional[float], typer.Option("--fps", help="Frame rate of an image sequence (default 30).")] = None,
    max_frames: Annotated[Optional[int], typer.Option("--max-frames", help="Stop after this many frames (a camera also stops with Ctrl-C).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Extract pose landmarks from a video into a .npz landmark file.

    Exit code 4 (the file is still written, all NaN) when no person is found in any frame.
    """
    from .errors import NoPlieError
    from .extract import NO_PERSON_WARNING, extract_to_npz

    cfg = effective_config(config, **{"model.task_path": str(model) if model else None, "model.complexity": complexity})
    with _frame_progress(quiet, "Extracting") as progress:
        sequence = extract_to_npz(video, output, cfg, fps=fps, max_frames=max_frames, progress=progress,
                                  log=None if quiet else err.print)
    for warning in sequence.meta.get("warnings", []):
        if warning != NO_PERSON_WARNING:
            err.print(f"[yellow]Warning:[/] {warning}")
    if not sequence.detected.any():
        raise NoPlieError(f"No person was found in any of the {sequence.n_frames} frames; {output} was written "
                          "with empty (NaN) landmarks.",
                          "Check that the whole dancer is in the picture and well lit.")
    if not quiet:
        err.print(f"Wrote {output}: {sequence.n_frames} frames, a pose in {int(sequence.detected.sum())}.")


def _frame_progress(quiet: bool, label: str):  # type: ignore[no-untyped-def]
    """Context manager yielding a ``progress(done, total)`` callback drawing a bar (None if quiet)."""
    from contextlib import contextmanager, nullcontext

    if quiet:
        return nullcontext(None)

    @contextmanager
    def bar():  # type: ignore[no-untyped-def]
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, transient=True) as bar_:
            task = bar_.add_task(label, total=None)
            yield lambda done, total: bar_.update(task, completed=done, total=total)

    return bar()


@model_app.command("build")
def model_build_cmd(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if a verified model is cached.")] = False,
    wheel: Annotated[Optional[Path], typer.Option("--wheel", help="Pre-downloaded mediapipe wheel named in models/ (env: TURNOUT_MODEL_WHEEL); default: pip downloads it.")] = None,
) -> None:
    """Build the pose model from the recipe in models/ (downloads the source wheel from PyPI once)."""
    from .pose_model import build_model

    resolved = build_model("full", wheel=wheel, force=force, log=err.print)
    typer.echo(f"{resolved.path}  sha256 {resolved.sha256}")


@model_app.command("verify")
def model_verify_cmd(model: TaskOpt = None, complexity: ComplexityOpt = None) -> None:
    """Check the model that would be used: checksum, and that MediaPipe loads and runs it."""
    from .pose_model import verify_model

    resolved = verify_model(complexity or "full", model)
    typer.echo(f"OK  {resolved.path}  ({resolved.origin}, sha256 {resolved.sha256})")


@model_app.command("path")
def model_path_cmd(model: TaskOpt = None, complexity: ComplexityOpt = None) -> None:
    """Print the path of the model that would be used (exit code 3 if it is not there yet)."""
    from .errors import ModelError
    from .pose_model import model_location

    path, origin = model_location(complexity or "full", model)
    typer.echo(str(path))
    if not path.is_file():
        raise ModelError(f"{path} does not exist yet.", "Run `turnout model build`." if origin == "built"
                         else "Fix the path given with --model or TURNOUT_MODEL_TASK.")


@app.command("analyze")
def analyze_cmd(
    video: Annotated[Optional[str], typer.Argument(help="Video to analyse (default: the built-in sample). Ignored with --landmarks.")] = None,
    landmarks: Annotated[Optional[Path], typer.Option("--landmarks", help="Analyse this landmark file (.npz, from `turnout extract`) instead of a video.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the result JSON (format: docs/CONVENTIONS.md) to this file.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder for a video (default turnout_output/<name>/).")] = None,
    method: Annotated[Optional[str], typer.Option("--method", help="Floor-plane method: camera (default) or world (baseline).")] = None,
    forced_deg: Annotated[Optional[float], typer.Option("--forced-threshold", help="Flag forced turnout above this many degrees (default 10).")] = None,
    vfov: Annotated[Optional[float], typer.Option("--vfov", help="Vertical field of view of the camera in degrees, if known.")] = None,
    camera_height: Annotated[Optional[float], typer.Option("--camera-height", min=0.05, max=4.0, help="Height of the camera lens above the floor in metres, if measured (improves foot rotation).")] = None,
    floor_marker: Annotated[Optional[str], typer.Option("--floor-marker", help="aruco, a4 or letter: calibrate the camera from this marker lying on the floor in the video's first frames.")] = None,
    marker_size: Annotated[float, typer.Option("--marker-size", min=0.02, help="Side of the ArUco marker's black square in metres (with --floor-marker aruco).")] = 0.20,
    config: ConfigOpt = None,
    model: TaskOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output folder.")] = False,
    json_only: Annotated[bool, typer.Option("--json-only", help="For a video: write only result.json and landmarks.npz.")] = False,
    max_dancers: Annotated[Optional[int], typer.Option("--max-dancers", min=1, help="Class video: track and score up to N dancers separately (result.json gets a `dancers` list).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Measure turnout in demi-pliés: from a video (extracting first) or a landmark file.

    Exit code 4 (outputs still written) when no demi-plié is found.
    """
    from .errors import NoPlieError

    cfg = effective_config(config, **{"analysis.method": method, "flags.forced_turnout_deg": forced_deg,
                                      "camera.vfov_deg": vfov, "model.task_path": str(model) if model else None,
                                      "model.num_poses": max_dancers, "camera.camera_height_m": camera_height})
    if floor_marker is not None:
        from .pipeline import with_floor_calibration

        if landmarks is not None:
            raise InputError("--floor-marker needs the video, not a landmark file.",
                             "Run `turnout analyze VIDEO --floor-marker ...`, or give --camera-height instead.")
        cfg, cal = with_floor_calibration(video, cfg, floor_marker, marker_size)
        if not quiet:
            err.print(f"Floor marker ({cal.source}, {cal.extra.get('frames', 1)} frames): camera "
                      f"{cal.camera_height_m:.2f} m high, pitch {cal.pitch_deg:+.1f} deg, focal {cal.focal_px:.0f} px.")
    if landmarks is not None:
        from .analysis.core import analyze
        from .sequence import PoseSequence

        result = analyze(PoseSequence.load_npz(landmarks), cfg)
        data = result.to_dict()
        if json_out is not None:
            result.write_json(json_out)
        if not quiet:
            _print_summary(data)
            if json_out is not None:
                err.print(f"Wrote {json_out}")
        if not result.has_plie:
            raise NoPlieError(f"No demi-plié was found in {landmarks}: {data.get('status_reason') or data['status']}",
                              "Film one or more slow demi-pliés in first position, the whole body in the picture.")
        return

    import json as _json

    from .pipeline import analyze_video, rich_progress

    # --json-only is for scripts: no progress bar, the result JSON on stdout, errors on stderr.
    with rich_progress(not (quiet or json_only)) as progress:
        outcome = analyze_video(video, out, cfg, quiet=quiet or json_only, force=force, json_only=json_only,
                                progress=progress, max_dancers=max_dancers)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(_json.dumps(outcome.result_json, indent=1, allow_nan=False), encoding="utf-8")
    if json_only:
        typer.echo(_json.dumps(outcome.result_json, allow_nan=False))
    elif not quiet:
        if outcome.result_json.get("dancers") is not None:
            _print_class(outcome.result_json)
        else:
            _print_summary(outcome.result_json)
        verdict = outcome.result_json.get("verdict") or {}
        Console(highlight=False).print(f"\n[bold]{verdict.get('headline', '')}[/]")
        for line in [*verdict.get("per_leg", []), *verdict.get("changes", [])]:
            Console(highlight=False).print(f"  {line}")
        err.print(f"Report: {outcome.files.get('html', outcome.out_dir)}")
    if outcome.exit_code:
        changes = (outcome.result_json.get("verdict") or {}).get("changes") or []
        where = f" The report in {outcome.out_dir} says more." if not json_only else ""
        raise NoPlieError(outcome.reason or "No demi-plié was found.",
                          (changes[0] if changes else
                           "Film one or more slow demi-pliés in first position, the whole body in the picture.") + where)


@app.command("batch")
def batch_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of videos (searched recursively).")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (default: <FOLDER>_turnout beside FOLDER).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", min=1, help="Videos scored at once, one process each (default: the number of CPU cores).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Score every video again, even those already done with the same video, model and configuration.")] = False,
    method: Annotated[Optional[str], typer.Option("--method", help="Floor-plane method: camera (default) or world (baseline).")] = None,
    forced_deg: Annotated[Optional[float], typer.Option("--forced-threshold", help="Flag forced turnout above this many degrees (default 10).")] = None,
    vfov: Annotated[Optional[float], typer.Option("--vfov", help="Vertical field of view of the camera in degrees, if known (all videos).")] = None,
    max_dancers: Annotated[Optional[int], typer.Option("--max-dancers", min=1, help="Class videos: track and score up to N dancers in each video separately.")] = None,
    config: ConfigOpt = None,
    model: TaskOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score every video in a folder: one report folder per video, summary.csv and index.html.

    Re-running skips videos already done (same content, model and configuration). Exit code 5
    when some videos failed (their reasons are in the summary); the others are still scored.
    """
    from .batch import BatchFailedError, run_batch

    cfg = effective_config(config, **{"analysis.method": method, "flags.forced_turnout_deg": forced_deg,
                                      "camera.vfov_deg": vfov, "model.task_path": str(model) if model else None,
                                      "model.num_poses": max_dancers})
    with _batch_progress(quiet) as (on_start, on_done):
        result = run_batch(folder, out, cfg, workers=workers, force=force, on_start=on_start, on_done=on_done,
                           log=None if quiet else err.print)
    if not quiet:
        counts = {s: result.count(s) for s in ("ok", "no_plie", "not_scorable", "failed")}
        done_before = f" ({result.n_cached} already done)" if result.n_cached else ""
        err.print(f"{result.n_videos} videos{done_before}: {counts['ok']} scored, {counts['no_plie']} without a "
                  f"plié, {counts['not_scorable']} not scorable, {counts['failed']} failed; "
                  f"{result.count('skipped')} other files skipped. {result.seconds:.0f} s.")
        err.print(f"Summary: {result.summary_csv}  Table: {result.index_html}")
    if result.n_failed:
        raise BatchFailedError(f"{result.n_failed} of {result.n_videos} videos failed.",
                               f"Their reasons are in {result.summary_csv}; the other videos were scored.")


def _batch_progress(quiet: bool):  # type: ignore[no-untyped-def]
    """Context manager yielding (on_start, on_done) callbacks for ``run_batch``: an overall progress
    bar and one line per finished video on stderr (both None if quiet)."""
    from contextlib import contextmanager, nullcontext

    if quiet:
        return nullcontext((None, None))

    @contextmanager
    def bar():  # type: ignore[no-untyped-def]
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        styles = {"ok": "green", "no_plie": "yellow", "not_scorable": "yellow", "failed": "bold red"}
        with Progress(TextColumn("Scoring videos"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as bar_:
            task = bar_.add_task("batch", total=None)

            def on_start(found, out_root):  # type: ignore[no-untyped-def]
                for path in found.skipped:
                    bar_.console.print(f"[dim]skipped {escape(str(path))}: not a video[/]")
                bar_.console.print(f"{len(found.videos)} videos -> {escape(str(out_root))}")
                bar_.update(task, total=len(found.videos))

            def on_done(outcome, n_done, n_total):  # type: ignore[no-untyped-def]
                bar_.update(task, completed=n_done, total=n_total)
                if outcome.cached:
                    return  # done by an earlier run: counted in the closing line
                line = f"[{styles.get(outcome.status, '')}]{escape(outcome.status)}[/] {escape(outcome.video)}"
                if outcome.reason and outcome.status != "ok":
                    line += f"[dim]: {escape(outcome.reason)}[/]"
                if outcome.seconds:
                    line += f" [dim]({outcome.seconds:.{0 if outcome.seconds >= 10 else 1}f} s)[/]"
                bar_.console.print(line)

            yield on_start, on_done

    return bar()


@app.command("live")
def live_cmd(
    camera: Annotated[str, typer.Option("--camera", help="Camera index (default 0), stream URL (rtsp://...) or a video file played as a camera.")] = "0",
    headless: Annotated[bool, typer.Option("--headless", help="No window: run the same loop (tests, recording on a machine with no screen).")] = False,
    record: Annotated[Optional[Path], typer.Option("--record", help="Save the session's video in this folder and, on exit, the same report as `turnout analyze`.")] = None,
    no_mirror: Annotated[bool, typer.Option("--no-mirror", help="Show the camera image as filmed, not mirrored.")] = False,
    every_frame: Annotated[bool, typer.Option("--every-frame", help="Process every frame of a video file instead of keeping real time (no frames dropped).")] = False,
    max_seconds: Annotated[Optional[float], typer.Option("--max-seconds", help="Stop after this many seconds.")] = None,
    config: ConfigOpt = None,
    model: TaskOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Real-time feedback from a webcam: framing check, knees over the toes at the bottom of each plié,
    a count and a verdict per plié. Quit with q, Esc, by closing the window or with Ctrl-C."""
    from .live import run_live

    cfg = effective_config(config, **{"model.task_path": str(model) if model else None})

    def show(event) -> None:  # type: ignore[no-untyped-def]
        if not quiet and event.kind not in ("start", "knees_ok"):
            err.print(f"[dim]{event.t_s:7.2f} s[/]  {event.text}")

    if not quiet:
        err.print("Starting the camera and the pose model..." if headless else
                  "Starting... quit with q or Esc (or close the window).")
    session = run_live(camera, cfg, headless=headless, record_dir=record, realtime=not every_frame,
                       mirror=not no_mirror, max_seconds=max_seconds, on_event=show)
    if not quiet:
        if session.recording is not None:
            err.print(f"Session video: {session.recording}")
        if session.report_dir is not None:
            err.print(f"Report: {session.report_dir / 'report.html'}")


def _fmt(item: object, unit: str = "°") -> str:
    """A result value object as text: '62° ± 4' or '–' (reason in the JSON)."""
    if not isinstance(item, dict) or item.get("value") is None:
        return "–"
    sd = item.get("sd")
    return f"{item['value']:.0f}{unit}" + (f" ± {sd:.0f}" if isinstance(sd, (int, float)) else "")


def _ratio(item: object) -> str:
    if not isinstance(item, dict) or item.get("value") is None:
        return "–"
    sd = item.get("sd")
    return f"{item['value']:+.2f}" + (f" ± {sd:.2f}" if isinstance(sd, (int, float)) else "")


def _print_summary(data: dict) -> None:
    """A short table of the summary on stdout."""
    from rich.table import Table

    out = Console(highlight=False)
    summary = data.get("summary") or {}
    table = Table(title=f"{len(data.get('reps') or [])} plié(s) · method {((data.get('method') or {}).get('name'))}")
    table.add_column("")
    for side in ("left", "right"):
        table.add_column(side)
    rows = (("standing foot rotation", "standing_foot_rotation_deg"), ("foot rotation (bottom)", "foot_rotation_deg"),
            ("leg rotation", "leg_rotation_deg"), ("forced turnout", "forced_turnout_deg"),
            ("recommended foot rotation", "recommended_foot_rotation_deg"))
    for label, key in rows:
        table.add_row(label, *(_fmt((summary.get(s) or {}).get(key)) for s in ("left", "right")))
    table.add_row("knee over toe (foot lengths, + = outside)", *(
        _ratio((((summary.get(s) or {}).get("knee_over_toe") or {}).get("ratio"))) for s in ("left", "right")))
    out.print(table)
    for f in data.get("flags") or []:
        out.print(f"[bold yellow]{f['name']}[/]: {f['message']}")
    for w in data.get("warnings") or []:
        out.print(f"[dim]{w['code']}: {w['message']}[/]")


def _print_class(data: dict) -> None:
    """The class table of a class video (``--max-dancers``) on stdout: one row per dancer and side."""
    from rich.table import Table

    table = Table(title=f"{len(data.get('dancers') or [])} dancer(s)")
    for col in ("dancer", "stands", "status", "side", "foot rotation", "leg rotation", "forced turnout", "flags"):
        table.add_column(col)
    for row in data.get("class_table") or []:
        deg = lambda v: "–" if v is None else f"{v:.0f}°"  # noqa: E731
        table.add_row(row["label"], row["where"], row["status"].replace("_", " "), row["side"],
                      deg(row["foot_rotation_deg"]), deg(row["leg_rotation_deg"]), deg(row["forced_turnout_deg"]),
                      row["flags"].replace(";", ", "))
    Console(highlight=False).print(table)
    for d in data.get("dancers") or []:
        if d.get("verdict", {}).get("reason"):
            Console(highlight=False).print(f"[dim]{d['label']}: {d['verdict']['reason']}[/]")


def _drop_none(data: dict) -> dict:
    return {k: _drop_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}


_CLICK_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
"""Base class of the usage errors of the click copy that typer bundles (not importable as ``click``)."""


def main() -> None:
    """Entry point of the console script: maps errors to one sentence and an exit code."""
    try:
        code = app(standalone_mode=False)
        # Without standalone mode, typer returns the code of a `typer.Exit` and turns Ctrl-C
        # (KeyboardInterrupt) into a returned 130 instead of raising.
        if isinstance(code, int) and code:
            if code == EXIT_INTERRUPTED:
                err.print("Interrupted.")
            sys.exit(code)
    except TurnoutError as exc:
        if _state["debug"]:
            raise
        err.print(f"[bold red]Error:[/] {exc}")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        err.print("Interrupted.")
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        if isinstance(exc, _CLICK_ERROR):  # usage errors (unknown option, bad value) carry exit code 2
            exc.show()
            sys.exit(exc.exit_code)
        if _state["debug"]:
            raise
        err.print(f"[bold red]Unexpected error:[/] {exc.__class__.__name__}: {exc}. Run again with --debug and report it.")
        sys.exit(EXIT_INTERNAL)
