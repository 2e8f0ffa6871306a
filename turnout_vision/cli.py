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
from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, TurnoutError

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


def _drop_none(data: dict) -> dict:
    return {k: _drop_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}


def main() -> None:
    """Entry point of the console script: maps errors to one sentence and an exit code."""
    try:
        app(standalone_mode=False)
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
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if _state["debug"]:
            raise
        err.print(f"[bold red]Unexpected error:[/] {exc.__class__.__name__}: {exc}. Run again with --debug and report it.")
        sys.exit(EXIT_INTERNAL)
