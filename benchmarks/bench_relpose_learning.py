"""The relative-pose learning experiment end to end: can frozen ImageNet features give pose on real held-out frames?

7-Scenes redkitchen seq-01 (``frames`` layout, 1000 frames): the frozen ImageNet EfficientNet-Lite0's stride-16
feature maps are cached once per frame (:mod:`posekit.models.feature_cache`); a pooled, a spatial and a
correlation head train on pairs of frames 0-699 (distances 1-26, both directions) with frames 700-799 held out
for model selection; everything is evaluated on frames 800-999 at distances 5, 10 and 20 beside zero motion,
constant velocity, direct alignment (sensor depth) from the identity and from the best network (chosen on
700-799), and ORB + PnP (:mod:`posekit.evaluation.relative_features`).

Prints the table and, last, one JSON line. JSON keys: ``d10_network_t_median_m``, ``d10_network_r_median_deg``,
``d10_zero_t_median_m``, ``d10_zero_r_median_deg``, the same four at distance 20
(``d20_network_t_median_m``, ``d20_network_r_median_deg``, ``d20_zero_t_median_m``, ``d20_zero_r_median_deg``), ``train_seconds`` (the
headline network's feature caching + training), ``network`` (the head chosen on 700-799),
``train_seconds_by_head``, ``val_loss_by_head``, ``refine_stride``, ``seconds`` and the other rows under ``rows``.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_relpose_learning.py \\
        [--data ../shared/data/7scenes_redkitchen_seq01] [--out /tmp/relpose/bench] [--epochs 12] [--quick]

Variants (one row each, named after the head): ``--fine-tune-stages N`` trains the encoder's last N stages up to
the feature level too (the frozen part's output is cached; ``--init-from MODEL`` starts from a frozen run's
model; row ``<head>_ft<N>``), ``--depth-encoder MODEL`` uses a trained depth network's encoder
(``posekit train depth``) instead of ImageNet's (row ``<head>_depth``), ``--no-pretrained`` a random one (row
``<head>_random``). ``--train-frames``/``--val-frames``/``--test-frames`` move the split (for choices made on
the training frames: e.g. 0-599 / 600-799 / 600-799 with ``--export last``, never on 800-999).

``--quick``: frames 0-19 / 20-29 / 30-59 (test distances 10 and 20), 64x96 images, 1 epoch, training distances
1-3: checks that the pipeline runs.
Feature and image caches go under ``--cache-dir`` (default: the user cache folder).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from posekit.models import PoseHeadKind
from posekit.training.frame_data import FrameRange
from posekit.training.relpose import load_relpose
from posekit.models.relpose_finetune import stage_parameters
from posekit.training.relpose_features import (FeatureTrainConfig, head_input_sequence, load_feature_sequence,
                                               sequence_frames, sequence_through_stages, train_on_cached_features)
from posekit.evaluation.relative_features import GeometricEstimator, evaluate_held_out, format_table
from posekit.viz.training_curves import lowest_logged_value

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "7scenes_redkitchen_seq01"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default="/tmp/relpose/bench")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--pairs-per-epoch", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--heads", default="pooled,spatial,correlation")
    parser.add_argument("--feature-level", type=int, default=3, help="encoder level: 2 (stride 8) or 3 (stride 16)")
    parser.add_argument("--refine-stride", type=int, default=4, help="refinement rows on every N-th test pair (0: none)")
    parser.add_argument("--pretrained", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--fine-tune-stages", type=int, default=0, help="train the encoder's last N stages too")
    parser.add_argument("--fine-tune-lr-factor", type=float, default=0.1, help="their lr as a factor on --lr")
    parser.add_argument("--init-from", default=None, help="model file whose weights start the network")
    parser.add_argument("--depth-encoder", default=None, help="a depth model (train depth): its encoder's features")
    parser.add_argument("--beta", type=float, default=1.0, help="weight of the rotation term of the loss")
    parser.add_argument("--distances", default=None, help="training distances, comma-separated (default: 1-26)")
    parser.add_argument("--train-frames", default="0-699")
    parser.add_argument("--val-frames", default="700-799")
    parser.add_argument("--test-frames", default="800-999")
    parser.add_argument("--export", default="best", choices=("best", "last"))
    parser.add_argument("--eval-only", action="store_true",
                        help="no training: evaluate the models a previous run left in --out/<head>/model.safetensors")
    parser.add_argument("--translation-shrink", default="",
                        help="comma-separated factors a: also rows <network>_t*a with the translation times a "
                             "(shrinkage toward zero motion; choose a on the training frames)")
    parser.add_argument("--compare-model", action="append", default=[], metavar="NAME=MODEL",
                        help="also evaluate an exported model on the same pairs (e.g. the frozen run beside the "
                             "fine-tuned one); it must share the cached frozen encoder stages")
    parser.add_argument("--quick", action="store_true")
    return parser.parse_args(argv)


def settings(args: argparse.Namespace) -> tuple[FeatureTrainConfig, FrameRange, tuple[int, ...], tuple[int, int]]:
    """The base training configuration, the test frames, the test distances and the geometric image size."""
    base = FeatureTrainConfig(dataset="frames", data=args.data, max_epochs=args.epochs, pairs_per_epoch=args.pairs_per_epoch,
                              batch_size=args.batch_size, lr=args.lr, feature_level=args.feature_level, cache_dir=args.cache_dir, pretrained=args.pretrained,
                              fine_tune_stages=args.fine_tune_stages, fine_tune_lr_factor=args.fine_tune_lr_factor,
                              init_from=args.init_from, depth_encoder=args.depth_encoder, beta=args.beta,
                              train_frames=args.train_frames, val_frames=args.val_frames, export=args.export)
    if args.distances:
        base = replace(base, distances=tuple(int(d) for d in args.distances.split(",")))
    if args.quick:
        base = replace(base, train_frames="0-19", val_frames="20-29", image_size=(64, 96), distances=(1, 2, 3),
                       val_distances=(2,), max_epochs=1, pairs_per_epoch=32, batch_size=16)
        return base, FrameRange(30, 59), (10, 20), (60, 80)
    return base, FrameRange.parse(args.test_frames), (5, 10, 20), (240, 320)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    base, test_frames, distances, geometric_size = settings(args)
    frames = sequence_frames(base.dataset, base.data)
    if args.quick:
        frames = [f for f in frames if f.order <= test_frames.last]
    heads = [PoseHeadKind(h) for h in args.heads.split(",")]
    networks, sequences, val_loss, train_seconds = {}, {}, {}, {}
    for head in heads:
        config = replace(base, head=head, out=str(Path(args.out) / head.value))
        if args.eval_only:
            name = head.value + variant_suffix(base)
            networks[name], sequences[name] = evaluated_model(Path(config.out) / "model.safetensors", frames, config)
            val_loss[name], train_seconds[name] = lowest_logged_value(config.out, "val/loss"), 0.0
            continue
        result = train_on_cached_features(config, frames)
        model = load_relpose(result.run_dir / "model.safetensors")  # the exported model, as eval reads it
        name = head.value + variant_suffix(base)
        # the maps the head reads (the cached ones, or the cached frozen part through the exported fine-tuned stages)
        result.module.pose_net.load_state_dict(model.pose_net.state_dict())
        sequences[name] = head_input_sequence(result.sequence, result.module)
        networks[name] = model.pose_net
        metrics = lowest_logged_value(result.run_dir, "val/loss")
        val_loss[name] = metrics
        train_seconds[name] = result.feature_seconds + result.fit_seconds
        print(f"{name}: features {result.feature_seconds:.0f} s, training {result.fit_seconds:.0f} s, "
              f"best val loss {metrics:.4f}", flush=True)
    best = min(val_loss, key=val_loss.get)
    for spec in args.compare_model:
        name, path = spec.split("=", 1)
        networks[name], sequences[name] = compared_model(path, result)
    geometric = GeometricEstimator(sequences[best], geometric_size) if args.refine_stride > 0 else None
    evaluation = evaluate_held_out(sequences[best], test_frames, distances, {best: networks[best]}, refine_network=best,
                                   refine_stride=args.refine_stride, geometric=geometric)
    for name in networks:  # every other head on the maps it reads (the same pairs and trivial rows)
        if name != best:
            other = evaluate_held_out(sequences[name], test_frames, distances, {name: networks[name]}, refine_stride=0)
            evaluation.rows[name] = other.rows[name]
    for factor in (float(a) for a in args.translation_shrink.split(",") if a):
        for name in list(networks):
            shrunk = evaluate_held_out(sequences[name], test_frames, distances, {name: networks[name]}, refine_stride=0,
                                       translation_factor=factor)
            evaluation.rows[f"{name}_t*{factor:g}"] = shrunk.rows[name]
    print(format_table(evaluation))
    summary: dict = {}
    for d in (10, 20):
        key = f"d{d}_"
        summary[key + "network_t_median_m"] = evaluation.rows[best][d]["t_median_m"]
        summary[key + "network_r_median_deg"] = evaluation.rows[best][d]["r_median_deg"]
        summary[key + "zero_t_median_m"] = evaluation.rows["zero"][d]["t_median_m"]
        summary[key + "zero_r_median_deg"] = evaluation.rows["zero"][d]["r_median_deg"]
    summary.update(network=best, train_seconds=train_seconds[best], train_seconds_by_head=train_seconds,
                   val_loss_by_head=val_loss, refine_stride=args.refine_stride, seconds=evaluation.seconds,
                   rows={m: {str(d): s for d, s in rows.items()} for m, rows in evaluation.rows.items()})
    print(json.dumps(summary))
    return summary


def evaluated_model(path: Path, frames, config: FeatureTrainConfig):
    """A previous run's exported model and the maps its head reads (its own encoder's level, from the cache)."""
    pose_net = load_relpose(path).pose_net
    sequence = load_feature_sequence(frames, pose_net, tuple(config.image_size), config.cache_dir)
    return pose_net, sequence


def compared_model(path: str, result):
    """An exported model and the maps its head reads: the run's cached maps through the model's own encoder
    stages above the cached level (the frozen stages below must be the run's)."""
    pose_net = load_relpose(path).pose_net
    level = result.module.input_level
    ours, theirs = (stage_parameters(net.backbone, 0, level) for net in (result.module.pose_net, pose_net))
    if len(ours) != len(theirs) or not all(torch.equal(a, b) for a, b in zip(ours, theirs)):
        raise SystemExit(f"--compare-model {path}: its encoder stages 0..{level} differ from the cached ones")
    return pose_net, sequence_through_stages(result.sequence, pose_net, level)


def variant_suffix(config: FeatureTrainConfig) -> str:
    """``_depth``, ``_random`` or ``""`` for the encoder, then ``_ft<N>`` when its last N stages were trained."""
    encoder = "_depth" if config.depth_encoder else ("" if config.pretrained else "_random")
    return encoder + (f"_ft{config.fine_tune_stages}" if config.fine_tune_stages else "")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"# total {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)  # the JSON line stays last
