"""Defaults in one place; TOML and flags override them deeply; bad keys and values are clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from turnout_vision.config import Config, load_config
from turnout_vision.errors import InputError


def test_toml_overrides_one_key_and_keeps_every_other_default(tmp_path: Path) -> None:
    path = tmp_path / "my.toml"
    path.write_text("[flags]\nforced_turnout_deg = 12\n\n[multi.tracking]\nmax_gap_s = 2.5\n", encoding="utf-8")
    config = load_config(path)
    assert config.flags.forced_turnout_deg == 12.0 and isinstance(config.flags.forced_turnout_deg, float)
    assert config.multi.tracking.max_gap_s == 2.5
    defaults = Config()
    assert config.flags.knee_inside_toes_ratio == defaults.flags.knee_inside_toes_ratio
    assert config.multi.tracking.max_cost == defaults.multi.tracking.max_cost
    assert config.plie == defaults.plie


def test_flags_override_the_file_and_unset_flags_do_not(tmp_path: Path) -> None:
    path = tmp_path / "my.toml"
    path.write_text("[flags]\nforced_turnout_deg = 12\n[camera]\nvfov_deg = 65\n", encoding="utf-8")
    config = load_config(path, {"flags.forced_turnout_deg": 8.0, "camera.vfov_deg": None})
    assert config.flags.forced_turnout_deg == 8.0
    assert config.camera.vfov_deg == 65.0  # a flag not given (None) leaves the file's value


@pytest.mark.parametrize(("text", "words"), [
    ("[flags]\nforced_turnout = 12\n", "Unknown configuration key 'flags.forced_turnout'"),
    ("[nonsense]\nx = 1\n", "Unknown configuration key 'nonsense'"),
    ("[flags]\nforced_turnout_deg = 'a lot'\n", "wrong type"),
    ("[flags\n", "not valid TOML"),
])
def test_bad_configuration_files_name_the_problem(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=words):
        load_config(path)


def test_effective_configuration_round_trips_through_toml(turnout_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = turnout_cli("config")
    assert code == 0
    printed = tomllib.loads(out)
    assert Config().merged(printed) == Config()
    assert printed["flags"]["forced_turnout_deg"] == Config().flags.forced_turnout_deg


def test_help_lists_the_subcommands(turnout_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = turnout_cli("--help")
    assert code == 0
    for command in ("analyze", "batch", "live", "extract", "model", "config"):
        assert command in out


def test_a_usage_error_is_one_message_and_exit_2_not_a_traceback(turnout_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = turnout_cli("analyze", "--no-such-flag")
    assert code == 2
    assert "No such option: --no-such-flag" in err
    assert "Traceback" not in out + err


def test_a_bad_config_file_via_the_cli_exits_2_with_the_key(turnout_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text("[flags]\nforced = 1\n", encoding="utf-8")
    code, _, err = turnout_cli("config", "--config", str(path))
    assert code == 2
    assert "Unknown configuration key 'flags.forced'" in err and "Traceback" not in err
