"""The full demo run by ``posekit demo``: render a scene, train small models on CPU, compare with baselines,
write the report.

1. Render a synthetic room (:mod:`posekit.data.synth`): training sequences and a separate test sequence, in the
   7-Scenes layout with exact depth and poses.
2. Absolute pose: train a small PoseNet (EfficientNet-Lite0, ImageNet weights) and evaluate it on the test
   sequence beside the retrieval baseline.
3. Relative pose: train a small relative-pose network (supervised, late fusion) and evaluate it on test pairs
   beside direct photometric alignment, ORB + PnP and the network refined by direct alignment.
4. Figures and the HTML report of the run folder.

Every step is the library's public API, the same the CLI calls, so each line printed can be reproduced on a real
dataset with ``posekit train ...`` / ``posekit eval ...`` (see ``posekit demo --help``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from posekit.data.synth import SynthConfig, synthesize
from posekit.evaluation.absolute import evaluate_posenet, evaluate_retrieval
from posekit.training.posenet import PoseNetTrainConfig, train_posenet
from posekit.training.relpose import RelPoseTrainConfig, train_relpose
from posekit.evaluation.relative import RelPoseEvalSettings, RelPoseMethod, evaluate_relpose
from posekit.viz import write_report

RELATIVE_METHODS = {
    RelPoseMethod.NETWORK: "Relative-pose network",
    RelPoseMethod.NETWORK_REFINED: "Network + direct refinement",
    RelPoseMethod.DIRECT: "Direct alignment (identity)",
    RelPoseMethod.ORB_PNP: "ORB + PnP",
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
    progress: bool = True


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


def _relative_line(name: str, summary: dict) -> str:
    return (f"{name:<28} RPE rmse {summary['rpe_t_rmse_m'] * 100:6.2f} cm {summary['rpe_r_rmse_deg']:5.2f} deg   "
            f"median {summary['rpe_t_median_m'] * 100:6.2f} cm {summary['rpe_r_median_deg']:5.2f} deg")


def run_demo(config: DemoConfig = DemoConfig(), echo: Callable[[str], None] = print) -> DemoResult:
    """Run every step of the demo into ``config.out`` (which must not hold an earlier demo's data)."""
    run_dir = Path(config.out)
    data_dir = run_dir / "data" / "room"
    cache_dir = str(run_dir / "cache")
    result = DemoResult(run_dir)
    synth = SynthConfig(frames=config.frames, sequences=config.sequences, width=config.width, height=config.height,
                        seed=config.seed, test_sequences=1)
    rendered = _timed("render the synthetic room", echo, synthesize, synth, data_dir)
    echo(f"[demo] rendered {sum(rendered.frame_counts)} frames in {len(rendered.frame_counts)} sequences "
         f"(test: seq-{rendered.test_sequences[0] + 1:02d}) into {data_dir}")

    posenet_dir = run_dir / "posenet"
    posenet = PoseNetTrainConfig(
        dataset="7scenes", data=str(data_dir), image_size=config.posenet_image_size, batch_size=16,
        max_epochs=config.posenet_epochs, lr=1e-3, feature_dim=256, dropout=0.2, out=str(posenet_dir),
        cache_dir=cache_dir, seed=config.seed, progress=config.progress,
    )
    _timed("train PoseNet", echo, train_posenet, posenet)
    summary = _timed("evaluate PoseNet", echo, evaluate_posenet, posenet_dir / "model.safetensors", "7scenes", data_dir,
                     run_dir, cache_dir=cache_dir)
    result.lines.append(_absolute_line("PoseNet (absolute)", summary))
    summary = _timed("evaluate retrieval", echo, evaluate_retrieval, "7scenes", data_dir, run_dir,
                     image_size=config.posenet_image_size, cache_dir=cache_dir)
    result.lines.append(_absolute_line("Retrieval (absolute)", summary))

    relpose_dir = run_dir / "relpose"
    relpose = RelPoseTrainConfig(
        dataset="7scenes", data=str(data_dir), image_size=config.relpose_image_size, batch_size=16,
        max_epochs=config.relpose_epochs, lr=1e-3, distance=config.pair_distance, out=str(relpose_dir),
        cache_dir=cache_dir, seed=config.seed, progress=config.progress,
    )
    _timed("train the relative-pose network", echo, train_relpose, relpose)
    settings = RelPoseEvalSettings(methods=tuple(RELATIVE_METHODS), distances=(config.pair_distance,),
                                   image_size=(config.height, config.width), cache_dir=cache_dir)
    summaries = _timed("evaluate relative pose (network, refinement, direct alignment, ORB + PnP)", echo,
                       evaluate_relpose, "7scenes", data_dir, run_dir, settings, relpose_dir / "model.safetensors")
    for method, name in RELATIVE_METHODS.items():
        result.lines.append(_relative_line(name, summaries[method.value]))

    result.report = write_report(run_dir, title="posekit demo")
    return result
