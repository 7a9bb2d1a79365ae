"""Speed of the relative-pose estimators on the same pairs: pairs per second of each method.

Methods: the pose network with late and with early fusion (EfficientNet-Lite0 at the network size, default
96x128), direct photometric alignment from the identity (grey, 3-level pyramid, at the evaluation size, default
240x320), ORB + PnP-RANSAC with the target depth (OpenCV, evaluation size), and the network followed by direct
refinement. The pairs are the 7-Scenes excerpt's frames 200-299 at distance 5 (95 pairs; ``--pairs`` takes the
first N). Networks are untrained unless ``--checkpoint-late`` / ``--checkpoint-early`` give trained models (the
refinement's time depends on how good its starting point is, so pass a trained one for a meaningful number).

Only the estimation is timed (images already decoded, resized and batched), after one warm-up batch. Prints a
table and, last, one JSON line. JSON keys: ``pairs`` (timed pairs), ``threads`` (torch threads) and
``<method>_pairs_per_second`` for each method: ``network_late``, ``network_early``, ``direct``, ``orb_pnp``,
``network_refined``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_relpose.py [--data ../shared/data/7scenes_redkitchen_seq01] \\
        [--pairs 48] [--checkpoint-late runs/late/model.safetensors] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch

from posekit.evaluation.relative import EvalPairs, PairBatch, PairEstimator, RelativePoseMethod, evaluation_pairs
from posekit.metrics.pair_errors import align_translation_scale, pair_errors
from posekit.training.config import config_to_dict, parse_image_size
from posekit.training.frame_data import FrameDataConfig, resolve_frame_sides
from posekit.training.relpose import RelativePoseModule, RelativePoseTrainConfig, load_relpose

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "7scenes_redkitchen_seq01"


def network(checkpoint: str | None, fusion: str, image_size: tuple[int, int]) -> RelativePoseModule:
    """A trained model, or an untrained EfficientNet-Lite0 pose network of the given fusion (same cost)."""
    if checkpoint is not None:
        return load_relpose(checkpoint)
    config = RelativePoseTrainConfig(fusion=fusion, image_size=image_size, pretrained=False, progress=False)
    return RelativePoseModule(config_to_dict(config), pretrained=False).eval()


def load_batches(pairs: EvalPairs, batch_size: int, limit: int) -> list[PairBatch]:
    """The first ``limit`` pairs, decoded and batched once (so that only estimation is timed)."""
    batches, count = [], 0
    for batch in pairs.batches(batch_size):
        batches.append(batch)
        count += len(batch.names)
        if count >= limit:
            break
    return batches


def time_method(estimator: PairEstimator, batches: list[PairBatch]) -> tuple[float, float, float]:
    """Pairs per second after a warm-up batch, and the median translation (m) / rotation (deg) errors."""
    estimator(batches[0])
    start = time.perf_counter()
    estimates = [estimator(batch).T_src_tgt for batch in batches]
    seconds = time.perf_counter() - start
    truth = torch.cat([batch.T_src_tgt for batch in batches])
    estimated = torch.cat(estimates)
    if not estimator.metric:  # a monocular model: the errors need the per-pair scale (speed is unaffected)
        estimated, _ = align_translation_scale(estimated, truth)
    errors = pair_errors(truth, estimated)
    return truth.shape[0] / seconds, float(errors.translation.median()), float(errors.rotation_deg.median())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("POSEKIT_DATA", DEFAULT_DATA.parent)) / DEFAULT_DATA.name)
    parser.add_argument("--frames", default="200-299", help="the frames to pair (order in the sequence)")
    parser.add_argument("--distance", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=95, help="time the first N pairs")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--eval-size", default="240x320", help="HxW of the geometric methods")
    parser.add_argument("--net-size", default="96x128", help="HxW of the untrained networks")
    parser.add_argument("--checkpoint-late", default=None, help="a trained late-fusion model")
    parser.add_argument("--checkpoint-early", default=None, help="a trained early-fusion model")
    parser.add_argument("--quick", action="store_true", help="smallest settings, seconds: checks that the script runs (numbers meaningless)")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.distance, args.pairs, args.batch_size = "200-205", 1, 2, 2
        args.eval_size, args.net_size = "48x64", "32x32"
    eval_size = parse_image_size(args.eval_size, "--eval-size")
    net_size = parse_image_size(args.net_size, "--net-size")

    late = network(args.checkpoint_late, "late", net_size)
    early = network(args.checkpoint_early, "early", net_size)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="posekit-bench-relpose-") as cache:
        warnings.simplefilter("ignore")
        config = FrameDataConfig(dataset="frames", data=str(args.data), test_frames=args.frames, image_size=eval_size,
                                 cache_dir=cache)
        sides = resolve_frame_sides(config, check_overlap=False)  # only the held-out pairs are used
        rows = []
        for name, module, method in (
            ("network, late fusion", late, RelativePoseMethod.NETWORK),
            ("network, early fusion", early, RelativePoseMethod.NETWORK),
            ("direct alignment (identity start)", None, RelativePoseMethod.DIRECT),
            ("ORB + PnP-RANSAC", None, RelativePoseMethod.ORB_PNP),
            ("network (late) + direct refinement", late, RelativePoseMethod.NETWORK_REFINED),
        ):
            size = tuple(module.config.image_size) if module is not None else None
            (pairs,) = evaluation_pairs(sides, config, [args.distance], size)
            batches = load_batches(pairs, args.batch_size, args.pairs)
            speed, t_err, r_err = time_method(PairEstimator(method, module), batches)
            sizes = [s for s in (size, eval_size if method.needs_depth else None) if s is not None]
            rows.append((name, speed, t_err, r_err, " + ".join(f"{h}x{w}" for h, w in sizes)))
    count = sum(len(b.names) for b in batches)
    trained = "trained" if args.checkpoint_late else "untrained"
    print(f"7-Scenes excerpt frames {args.frames}, distance {args.distance}: {count} pairs, batch {args.batch_size}, "
          f"{torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs; networks {trained} (late)")
    print(f"{'method':<38}{'input':>18}{'pairs/s':>10}{'median t (m)':>14}{'median r (deg)':>16}")
    for name, speed, t_err, r_err, sizes in rows:
        print(f"{name:<38}{sizes:>18}{speed:>10.1f}{t_err:>14.4f}{r_err:>16.3f}")
    result = {"pairs": count, "threads": torch.get_num_threads()}
    keys = ("network_late", "network_early", "direct", "orb_pnp", "network_refined")
    result.update({f"{key}_pairs_per_second": round(row[1], 2) for key, row in zip(keys, rows)})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
