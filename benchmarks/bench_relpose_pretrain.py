"""Synthetic pre-training of a relative-pose head, then fine-tuning on real frames (issue 14, item 3b).

Rendered pairs from many procedurally varied rooms (:mod:`posekit.data.synth.pairs`), with the relative motions
drawn from the real hand-held motions of 7-Scenes redkitchen seq-01 frames 0-799 at the training distances
(1-26, both directions), at the real experiment's working size (256 x 192, focal 234 px); the frozen ImageNet
EfficientNet-Lite0's stride-16 maps of every view are cached; the head (correlation by default) is pre-trained
on them (model selection on pairs rendered in other rooms), then fine-tuned on the real pairs of frames 0-699
(selection on 700-799) with the settings of ``bench_relpose_learning.py``'s headline; a head trained from
scratch with the same settings stands beside it. Everything is evaluated on frames 800-999 at distances 5, 10
and 20 beside zero motion and (oracle) constant velocity (:func:`posekit.evaluation.relative_features.evaluate_held_out`).

Prints the motion statistics (real and rendered, per distance), the table and, last, one JSON line. JSON keys:
``dD_M_t_median_m`` and ``dD_M_r_median_deg`` for every test distance ``D`` (5, 10, 20; 10 and 20 in ``--quick``)
and method ``M`` in ``zero``, ``constant_velocity``, ``scratch`` (no pre-training), ``pretrained`` (pre-trained
only, zero-shot on real frames) and ``finetuned`` (pre-trained + fine-tuned), i.e. ``d5_zero_t_median_m``,
``d5_zero_r_median_deg``, ``d5_constant_velocity_t_median_m``, ``d5_constant_velocity_r_median_deg``,
``d5_scratch_t_median_m``, ``d5_scratch_r_median_deg``, ``d5_pretrained_t_median_m``,
``d5_pretrained_r_median_deg``, ``d5_finetuned_t_median_m``, ``d5_finetuned_r_median_deg``, the same ten for ``d10_``
(``d10_zero_t_median_m``, ``d10_zero_r_median_deg``, ``d10_constant_velocity_t_median_m``,
``d10_constant_velocity_r_median_deg``, ``d10_scratch_t_median_m``, ``d10_scratch_r_median_deg``,
``d10_pretrained_t_median_m``, ``d10_pretrained_r_median_deg``, ``d10_finetuned_t_median_m``,
``d10_finetuned_r_median_deg``) and for ``d20_`` (``d20_zero_t_median_m``, ``d20_zero_r_median_deg``,
``d20_constant_velocity_t_median_m``, ``d20_constant_velocity_r_median_deg``, ``d20_scratch_t_median_m``,
``d20_scratch_r_median_deg``, ``d20_pretrained_t_median_m``, ``d20_pretrained_r_median_deg``,
``d20_finetuned_t_median_m``, ``d20_finetuned_r_median_deg``); ``synth_val`` (medians
``zero_t_median_m``, ``zero_r_median_deg``, ``pretrained_t_median_m``, ``pretrained_r_median_deg`` on the
rendered validation pairs), ``motion`` (``real`` and ``rendered`` statistics per distance), ``pairs``,
``val_pairs``, ``render_seconds``, ``pretrain_feature_seconds``, ``pretrain_seconds``, ``finetune_seconds``,
``scratch_seconds``, ``val_loss`` (best validation loss of each run) and ``rows`` (every summary).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_relpose_pretrain.py \\
        [--data ../shared/data/7scenes_redkitchen_seq01] [--out /tmp/pretrain/bench] [--pairs 2000] [--quick]

``--quick``: real frames 0-19 / 20-29 / 30-59 (test distances 10 and 20), 64 x 96 images, 24 rendered pairs
(8 for validation), one epoch each: checks that the pipeline runs. ``--chunks K``: K pair sets of ``--pairs``
each in distinct rooms (rooms ``k * rooms ..``), trained on together; ``--expansion``: which ordered pairs of
the rendered views pre-training uses (``both``: each pair both ways, like the real ``-d`` pairs; ``all``: every
pair of views sharing a target). ``--scratch-model PATH`` evaluates an
existing model as the scratch row instead of training one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from posekit.data.synth.pairs import MotionBank, PairRenderConfig, concatenate_pair_sets, render_pairs
from posekit.evaluation.relative_features import HeldOutPairs, evaluate_held_out, format_table, network_estimates, summarize
from posekit.metrics.relative_motion import motion_magnitudes, motion_statistics, zero_motion
from posekit.models import PoseHeadKind
from posekit.training.frame_data import FrameRange
from posekit.training.relpose import load_relpose
from posekit.training.relpose_features import FeatureSequence, FeatureTrainConfig, sequence_frames
from posekit.training.relpose_pretrain import finetune_on_frames, pair_set_features, pretrain_on_pairs
from posekit.viz.training_curves import lowest_logged_value

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "7scenes_redkitchen_seq01"
TRAIN_DISTANCES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 23, 26)
VAL_ROOM_SEED = 100_000  # validation rooms never overlap the training rooms
REAL_FOCAL_256 = 234.0  # 7-Scenes' 585 px at 640 wide, at 256 wide


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default="/tmp/pretrain/bench")
    parser.add_argument("--cache-dir", default=None, help="feature cache folder (default: the user cache folder)")
    parser.add_argument("--pairs-dir", default=None, help="rendered pair sets (default: OUT/../pairs)")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=1, help="pair sets of --pairs each, in distinct rooms, trained on together")
    parser.add_argument("--val-pairs", type=int, default=256)
    parser.add_argument("--pairs-per-room", type=int, default=40)
    parser.add_argument("--sources-per-target", type=int, default=3)
    parser.add_argument("--expansion", default="both", help="pre-training pairs: given, both (directions) or all (in a group)")
    parser.add_argument("--head", default="correlation")
    parser.add_argument("--pretrain-epochs", type=int, default=15)
    parser.add_argument("--pretrain-lr", type=float, default=2e-3)
    parser.add_argument("--epochs", type=int, default=12, help="real-frame epochs (fine-tuning and scratch)")
    parser.add_argument("--finetune-lr", type=float, default=2e-3)
    parser.add_argument("--pairs-per-epoch", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3, help="learning rate of the scratch head")
    parser.add_argument("--seed", type=int, default=0, help="seed of the head's initialisation and pair sampling")
    parser.add_argument("--scratch-model", default=None, help="evaluate this model as the scratch row (no training)")
    parser.add_argument("--no-scratch", action="store_true", help="no scratch row")
    parser.add_argument("--quick", action="store_true")
    return parser.parse_args(argv)


def _rendered_statistics(pair_set, distances) -> dict[int, dict[str, float]]:
    t, r = motion_magnitudes(pair_set.T_src_tgt())
    out = {}
    for d in distances:
        keep = pair_set.distances == d
        if keep.any():
            out[int(d)] = {"pairs": float(keep.sum()), "t_median_m": float(t[keep].median()),
                           "t_p90_m": float(torch.quantile(t[keep], 0.9)), "r_median_deg": float(r[keep].median()),
                           "r_p90_deg": float(torch.quantile(r[keep], 0.9))}
    return out


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    pairs_dir = Path(args.pairs_dir) if args.pairs_dir else out.parent / "pairs"
    head = PoseHeadKind(args.head)
    base = FeatureTrainConfig(dataset="frames", data=args.data, head=head, max_epochs=args.epochs,
                              pairs_per_epoch=args.pairs_per_epoch, batch_size=args.batch_size, lr=args.lr,
                              cache_dir=args.cache_dir, seed=args.seed)
    test_frames, test_distances, size = FrameRange(800, 999), (5, 10, 20), (192, 256)
    motion_frames, distances, stat_distances = FrameRange(0, 799), TRAIN_DISTANCES, (1, 5, 10, 20)
    n_pairs, n_val, per_room = args.pairs, args.val_pairs, args.pairs_per_room
    if args.quick:
        base = replace(base, train_frames="0-19", val_frames="20-29", image_size=(64, 96), distances=(1, 2, 3),
                       val_distances=(2,), max_epochs=1, pairs_per_epoch=32, batch_size=16)
        test_frames, test_distances, size = FrameRange(30, 59), (10, 20), (64, 96)
        motion_frames, distances, stat_distances = FrameRange(0, 29), (1, 2, 3, 5), (1, 5)
        n_pairs, n_val, per_room = 24, 8, 12
    frames = sequence_frames(base.dataset, base.data)
    if args.quick:
        frames = [f for f in frames if f.order <= test_frames.last]
    real_poses = torch.stack([f.T_world_cam for f in frames if motion_frames.first <= f.order <= motion_frames.last]).double()
    bank = MotionBank.from_poses(real_poses, distances)
    render = PairRenderConfig(pairs=n_pairs, sources_per_target=args.sources_per_target, pairs_per_room=per_room,
                              width=size[1], height=size[0], focal=REAL_FOCAL_256 * size[1] / 256)
    start = time.perf_counter()
    chunks = [render_pairs(replace(render, room_seed=k * render.rooms, seed=k), bank, pairs_dir) for k in range(args.chunks)]
    train_set = concatenate_pair_sets(chunks)
    val_set = render_pairs(replace(render, pairs=n_val, room_seed=VAL_ROOM_SEED, seed=1), bank, pairs_dir)
    render_seconds = time.perf_counter() - start
    motion = {"real": motion_statistics(real_poses, stat_distances), "rendered": _rendered_statistics(train_set, stat_distances)}
    print("motion per distance (median / p90):")
    for d in stat_distances:
        real, rendered = motion["real"][d], motion["rendered"].get(d, {})
        print(f"  d={d:2d} real {100 * real['t_median_m']:.2f} / {100 * real['t_p90_m']:.2f} cm, "
              f"{real['r_median_deg']:.2f} / {real['r_p90_deg']:.2f} deg; rendered "
              + (f"{100 * rendered['t_median_m']:.2f} / {100 * rendered['t_p90_m']:.2f} cm, "
                 f"{rendered['r_median_deg']:.2f} / {rendered['r_p90_deg']:.2f} deg ({int(rendered['pairs'])} pairs)"
                 if rendered else "no pair"), flush=True)
    print(f"rendered {args.chunks} x {n_pairs} + {n_val} pairs in {render_seconds:.0f} s "
          f"({', '.join(str(c.root) for c in chunks)}; {val_set.root})", flush=True)

    pretrain_config = replace(base, out=str(out / "pretrain"), max_epochs=args.pretrain_epochs if not args.quick else 1,
                              lr=args.pretrain_lr)
    pretrained = pretrain_on_pairs(pretrain_config, train_set, val_set, args.expansion)
    print(f"pre-training: features {pretrained.feature_seconds:.0f} s, fit {pretrained.fit_seconds:.0f} s", flush=True)
    pretrained_model = pretrained.run_dir / "model.safetensors"
    networks = {"pretrained": load_relpose(pretrained_model).pose_net}
    synth_val = _synthetic_validation(networks["pretrained"], pair_set_features(val_set, pretrained.module, pretrain_config))

    finetuned = finetune_on_frames(replace(base, out=str(out / "finetune"), lr=args.finetune_lr), pretrained_model, frames)
    networks["finetuned"] = load_relpose(finetuned.run_dir / "model.safetensors").pose_net
    val_loss = {"pretrained": lowest_logged_value(pretrained.run_dir, "val/loss"),
                "finetuned": lowest_logged_value(finetuned.run_dir, "val/loss")}
    scratch_seconds = 0.0
    if args.scratch_model:
        networks["scratch"] = load_relpose(args.scratch_model).pose_net
    elif not args.no_scratch:
        scratch = finetune_on_frames(replace(base, out=str(out / "scratch")), None, frames)
        networks["scratch"] = load_relpose(scratch.run_dir / "model.safetensors").pose_net
        val_loss["scratch"] = lowest_logged_value(scratch.run_dir, "val/loss")
        scratch_seconds = scratch.fit_seconds
    networks = {name: networks[name] for name in ("scratch", "pretrained", "finetuned") if name in networks}
    evaluation = evaluate_held_out(finetuned.sequence, test_frames, test_distances, networks, refine_stride=0)
    print(format_table(evaluation))
    print(f"rendered validation pairs: zero {100 * synth_val['zero_t_median_m']:.2f} cm / "
          f"{synth_val['zero_r_median_deg']:.2f} deg, pre-trained {100 * synth_val['pretrained_t_median_m']:.2f} cm / "
          f"{synth_val['pretrained_r_median_deg']:.2f} deg")
    summary: dict = {}
    for d in test_distances:
        for method, rows in evaluation.rows.items():
            summary[f"d{d}_{method}_t_median_m"] = rows[d]["t_median_m"]
            summary[f"d{d}_{method}_r_median_deg"] = rows[d]["r_median_deg"]
    summary.update(synth_val=synth_val, motion={k: {str(d): s for d, s in v.items()} for k, v in motion.items()},
                   pairs=int(train_set.pairs.shape[0]), val_pairs=n_val, render_seconds=render_seconds,
                   pretrain_feature_seconds=pretrained.feature_seconds, pretrain_seconds=pretrained.fit_seconds,
                   finetune_seconds=finetuned.fit_seconds, scratch_seconds=scratch_seconds, val_loss=val_loss,
                   rows={m: {str(d): s for d, s in rows.items()} for m, rows in evaluation.rows.items()})
    print(json.dumps(summary))
    return summary


def _synthetic_validation(pose_net, pairs) -> dict[str, float]:
    """Medians of zero motion and of the pre-trained network on the rendered validation pairs."""
    sequence: FeatureSequence = pairs.sequence
    targets, sources = pairs.pairs[:, 0], pairs.pairs[:, 1]
    poses = sequence.T_world_cam
    gt = torch.linalg.solve(poses[sources], poses[targets])
    held = HeldOutPairs(0, targets, sources, gt)
    zero = summarize(gt, zero_motion(gt.shape[0]))
    net = summarize(gt, network_estimates(pose_net, sequence, held))
    return {"zero_t_median_m": zero["t_median_m"], "zero_r_median_deg": zero["r_median_deg"],
            "pretrained_t_median_m": net["t_median_m"], "pretrained_r_median_deg": net["r_median_deg"]}


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"# total {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)  # the JSON line stays last
