"""The full demo run by ``posekit demo``: render a scene, train small models on CPU, compare with baselines,
write the report.

1. Render a synthetic room (:mod:`posekit.data.synth`): training sequences and a separate test sequence, in the
   7-Scenes layout with exact depth and poses.
2. Absolute pose: train a small PoseNet (EfficientNet-Lite0, ImageNet weights) and evaluate it on the test
   sequence beside the retrieval baseline.
3. Relative pose: train a small relative-pose network (supervised, late fusion) and evaluate it on test pairs
   beside direct photometric alignment, ORB + PnP and the network refined by direct alignment.
4. Map + localisation: a TSDF map of the training sequences, the test sequence localised in it (retrieval, then
   ORB + PnP and direct alignment), as ``posekit map build`` / ``posekit localize`` (full demo only: ``--quick``
   skips it, since the map build and the per-frame refinement take a minute on its own).
5. Figures and the HTML report of the run folder.

Every step is the library's public API, the same the CLI calls, so each line printed can be reproduced on a real
dataset with ``posekit train ...`` / ``posekit eval ...`` (see ``posekit demo --help``).

The demo runs again and again into the same folder: a folder holding an earlier demo's output (it has
:data:`DEMO_MARKER`) is replaced, and its rendered data re-used when the rendering settings are the same. A folder
that is not a demo's is never touched (:class:`~posekit.errors.ConfigError`).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from posekit.data.synth import SynthConfig, synthesize
from posekit.demo.localize import map_and_localize
from posekit.errors import ConfigError
from posekit.evaluation.absolute import evaluate_posenet, evaluate_retrieval
from posekit.evaluation.frames import EvalFrames
from posekit.evaluation.relative import RelativePoseEvalSettings, RelativePoseMethod, evaluate_relpose
from posekit.fileio import atomic_write_text
from posekit.runs import EXPORTED_MODEL
from posekit.training.posenet import PoseNetTrainConfig, train_posenet
from posekit.training.relpose import RelativePoseTrainConfig, train_relpose
from posekit.viz import write_report

# The file that marks a folder as a demo's output: the rendering settings of its data, as JSON.
DEMO_MARKER = "posekit-demo.json"
DATA_DIR = "data"
CACHE_DIR = "cache"

RELATIVE_METHODS = {
    RelativePoseMethod.NETWORK: "Relative-pose network",
    RelativePoseMethod.NETWORK_REFINED: "Network + direct refinement",
    RelativePoseMethod.DIRECT: "Direct alignment (identity)",
    RelativePoseMethod.ORB_PNP: "ORB + PnP",
}


@dataclass
class DemoConfig:
    """Sizes of the demo; the defaults finish in a few minutes on a 2-core CPU."""

    out: Path = Path("runs/demo")
    seed: int = 0
    width: int = 160
    height: int = 120
    frames: int = 100
    sequences: int = 4
    posenet_epochs: int = 5
    posenet_image_size: tuple[int, int] = (96, 128)
    relpose_epochs: int = 4
    relpose_image_size: tuple[int, int] = (96, 128)
    pair_distance: int = 3
    pretrained: bool = True
    progress: bool = True
    localize: bool = True

    @classmethod
    def quick(cls, **overrides) -> DemoConfig:
        """The smallest demo that still runs every step (seconds, not minutes; numbers meaningless): for tests."""
        values = dict(width=64, height=48, frames=12, sequences=2, posenet_epochs=1, posenet_image_size=(32, 32),
                      relpose_epochs=1, relpose_image_size=(32, 32), pair_distance=1, pretrained=False,
                      localize=False)
        return cls(**{**values, **overrides})


@dataclass
class DemoResult:
    """One line per result, and where everything was written."""

    run_dir: Path
    lines: list[str] = field(default_factory=list)
    report: Path | None = None


def _timed(step: str, echo: Callable[[str], None], function, *args, **kwargs):
    echo(f"[demo] {step} ...")
    start = time.perf_counter()
    value = function(*args, **kwargs)
    echo(f"[demo] {step}: done in {time.perf_counter() - start:.0f} s")
    return value


def _absolute_line(name: str, summary: dict) -> str:
    return (f"{name:<28} median {summary['median_t_m'] * 100:6.1f} cm {summary['median_r_deg']:5.2f} deg   "
            f"mean {summary['mean_t_m'] * 100:6.1f} cm {summary['mean_r_deg']:5.2f} deg   ({summary['frames']} test frames)")


def _localize_line(name: str, summary: dict) -> str:
    return (f"{name:<28} median {summary['median_t_m'] * 100:6.1f} cm {summary['median_r_deg']:5.2f} deg   "
            f"recall 5 cm/5 deg {summary['recall_5cm_5deg'] * 100:5.1f} %   {summary['frames_per_second']:.2f} frames/s   "
            f"({summary['frames']} test frames)")


def _relative_line(name: str, summary: dict) -> str:
    return (f"{name:<28} RPE rmse {summary['rpe_t_rmse_m'] * 100:6.2f} cm {summary['rpe_r_rmse_deg']:5.2f} deg   "
            f"median {summary['rpe_t_median_m'] * 100:6.2f} cm {summary['rpe_r_median_deg']:5.2f} deg")


def _synth_config(config: DemoConfig) -> SynthConfig:
    return SynthConfig(frames=config.frames, sequences=config.sequences, width=config.width, height=config.height,
                       seed=config.seed, test_sequences=1)


def _synth_settings(synth: SynthConfig) -> dict:
    return {k: v for k, v in dataclasses.asdict(synth).items() if isinstance(v, (int, float, str, bool, type(None)))}


def prepare_run_folder(run_dir: Path, synth: SynthConfig) -> bool:
    """Make ``run_dir`` ready for a demo: create it, or clear an earlier demo's output there.

    Returns:
        whether the rendered data in it can be re-used (an earlier demo rendered it with the same settings).

    Raises:
        ConfigError: ``run_dir`` holds files and is not a demo's output folder.
    """
    if not run_dir.exists() or not any(run_dir.iterdir()):
        run_dir.mkdir(parents=True, exist_ok=True)
        return False
    marker = run_dir / DEMO_MARKER
    if not marker.is_file():
        raise ConfigError(f"--out {run_dir}: the folder holds files and is not a posekit demo's output "
                          f"(no {DEMO_MARKER}); choose a new or empty folder")
    try:
        reuse = json.loads(marker.read_text(encoding="utf-8")).get("synth") == _synth_settings(synth)
    except (OSError, ValueError, AttributeError):
        reuse = False
    keep = {DEMO_MARKER, DATA_DIR, CACHE_DIR} if reuse else set()
    for path in run_dir.iterdir():
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return reuse


def run_demo(config: DemoConfig = DemoConfig(), echo: Callable[[str], None] = print) -> DemoResult:
    """Run every step of the demo into ``config.out``: a new or empty folder, or an earlier demo's output
    (replaced; its rendered data re-used when the rendering settings are the same)."""
    run_dir = Path(config.out)
    data_dir = run_dir / DATA_DIR / "room"
    cache_dir = str(run_dir / CACHE_DIR)
    result = DemoResult(run_dir)
    synth = _synth_config(config)
    if prepare_run_folder(run_dir, synth):
        echo(f"[demo] re-using the scene rendered by an earlier demo in {data_dir}")
    else:
        rendered = _timed("render the synthetic room", echo, synthesize, synth, data_dir)
        atomic_write_text(run_dir / DEMO_MARKER, json.dumps({"synth": _synth_settings(synth)}, indent=2) + "\n")
        echo(f"[demo] rendered {sum(rendered.frame_counts)} frames in {len(rendered.frame_counts)} sequences "
             f"(test: seq-{rendered.test_sequences[0] + 1:02d}) into {data_dir}")

    posenet_dir = run_dir / "posenet"
    posenet = PoseNetTrainConfig(
        dataset="7scenes", data=str(data_dir), image_size=config.posenet_image_size, batch_size=16,
        max_epochs=config.posenet_epochs, lr=1e-3, feature_dim=256, dropout=0.2, out=str(posenet_dir),
        cache_dir=cache_dir, seed=config.seed, pretrained=config.pretrained, progress=config.progress,
    )
    _timed("train PoseNet", echo, train_posenet, posenet)
    frames = EvalFrames(cache_dir=cache_dir)
    summary = _timed("evaluate PoseNet", echo, evaluate_posenet, "7scenes", data_dir, run_dir,
                     posenet_dir / EXPORTED_MODEL, frames)
    result.lines.append(_absolute_line("PoseNet (absolute)", summary))
    summary = _timed("evaluate retrieval", echo, evaluate_retrieval, "7scenes", data_dir, run_dir, None,
                     dataclasses.replace(frames, image_size=config.posenet_image_size))
    result.lines.append(_absolute_line("Retrieval (absolute)", summary))

    relpose_dir = run_dir / "relpose"
    relpose = RelativePoseTrainConfig(
        dataset="7scenes", data=str(data_dir), image_size=config.relpose_image_size, batch_size=16,
        max_epochs=config.relpose_epochs, lr=1e-3, distance=config.pair_distance, out=str(relpose_dir),
        cache_dir=cache_dir, seed=config.seed, pretrained=config.pretrained, progress=config.progress,
    )
    _timed("train the relative-pose network", echo, train_relpose, relpose)
    settings = RelativePoseEvalSettings(methods=tuple(RELATIVE_METHODS), distances=(config.pair_distance,))
    summaries = _timed("evaluate relative pose (network, refinement, direct alignment, ORB + PnP)", echo,
                       evaluate_relpose, "7scenes", data_dir, run_dir, relpose_dir / EXPORTED_MODEL,
                       dataclasses.replace(frames, image_size=(config.height, config.width)), settings=settings)
    for method, name in RELATIVE_METHODS.items():
        result.lines.append(_relative_line(name, summaries[method.value]))

    if config.localize:
        test_record = f"seq-{config.sequences:02d}"  # the synthesizer's test split is the last sequence
        summary = _timed("map the training sequences and localise the test sequence", echo, map_and_localize,
                         data_dir, run_dir, test_record, echo)
        result.lines.append(_localize_line("Map + localize (absolute)", summary))

    result.report = write_report(run_dir, title="posekit demo")
    return result
