"""The absolute-pose dataset: pose formats, normalisation from the training split only, splits, summary."""

from __future__ import annotations

import json
import math

import pytest
import torch

from posekit.data import (
    AbsolutePoseDataset,
    FrameTransform,
    PoseFormat,
    PoseStats,
    Split,
    SplitPolicy,
    SplitSource,
    assign_splits,
    decode_pose,
    encode_pose,
    load_index,
)
from posekit.data.splits import split_spans
from posekit.errors import DatasetError
from posekit.geometry import angle_between_rotations

from .layouts import kitti_pose_text, pose, write_kitti_sequence, write_sevenscenes

K = [[20.0, 0.0, 7.5], [0.0, 20.0, 5.5], [0.0, 0.0, 1.0]]


def _poses(n, seed):
    g = torch.Generator().manual_seed(seed)
    return [pose(yaw=float(torch.rand(1, generator=g)) * 6 - 3, t=tuple((torch.rand(3, generator=g) * 10 - 5).tolist()),
                 roll=float(torch.rand(1, generator=g)) - 0.5, pitch=float(torch.rand(1, generator=g)) - 0.5) for _ in range(n)]


@pytest.mark.parametrize("pose_format", list(PoseFormat))
def test_pose_formats_round_trip(pose_format):
    T = torch.stack(_poses(20, 1))
    stats = PoseStats.from_translations(T[:, :3, 3])
    encoded = encode_pose(T, pose_format, stats)
    assert encoded.shape == (20, *pose_format.shape)
    decoded = decode_pose(encoded, pose_format, stats)
    assert torch.allclose(decoded, T, atol=1e-9)
    if pose_format is PoseFormat.QUATERNION:
        assert bool((encoded[:, 3] >= 0).all()) and torch.allclose(encoded[:, 3:].norm(dim=-1), torch.ones(20, dtype=torch.float64))
        assert torch.allclose(encoded[:, :3].mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-9)
    if pose_format is PoseFormat.LOG_QUATERNION:
        angle = angle_between_rotations(T[:, :3, :3], torch.eye(3, dtype=torch.float64).expand(20, 3, 3))
        assert torch.allclose(encoded[:, 3:].norm(dim=-1), angle / 2, atol=1e-9)  # |log q| = theta / 2


def test_pose_stats_save_load(tmp_path):
    stats = PoseStats.from_translations(torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 4.0]]), "unit test")
    assert stats.mean == (1.0, 1.0, 3.0) and stats.std == (1.0, 1.0, 1.0)  # constant y: std 1, not 0
    stats.save(tmp_path / "stats.json")
    assert PoseStats.load(tmp_path / "stats.json") == stats
    assert PoseStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats


def _scene(tmp_path):
    sequences = {1: _poses(6, 1), 2: _poses(4, 2), 3: _poses(5, 3)}
    write_sevenscenes(tmp_path, sequences, train=[1, 3], test=[2], camera_matrix=K)
    return sequences


def test_normalisation_uses_the_training_split_only(tmp_path):
    sequences = _scene(tmp_path)
    index = load_index("7scenes", tmp_path)
    train_t = torch.stack([T[:3, 3] for T in sequences[1] + sequences[3]])
    expected = PoseStats.from_translations(train_t)
    for split in ("train", "test", "all"):
        dataset = AbsolutePoseDataset(index, split)
        assert torch.allclose(torch.tensor(dataset.pose_stats.mean), torch.tensor(expected.mean))
        assert torch.allclose(torch.tensor(dataset.pose_stats.std), torch.tensor(expected.std))
        assert dataset.pose_stats.count == 11
    # Moving the test camera far away does not change the statistics.
    for i, T in enumerate(sequences[2]):
        moved = T.clone()
        moved[:3, 3] += 1000.0
        (tmp_path / "seq-02" / f"frame-{i:06d}.pose.txt").write_text("\n".join(" ".join(map(str, r)) for r in moved.tolist()))
    test = AbsolutePoseDataset(load_index("7scenes", tmp_path), "test")
    assert test.pose_stats.mean == pytest.approx(expected.mean)
    item = test[0]
    assert torch.allclose(decode_pose(item["pose"].double(), PoseFormat.QUATERNION, test.pose_stats), item["T_world_cam"].double(), atol=1e-3)


def test_given_stats_are_used_and_items_are_complete(tmp_path):
    _scene(tmp_path)
    index = load_index("7scenes", tmp_path)
    stats = PoseStats((1.0, 2.0, 3.0), (2.0, 2.0, 2.0), 10, "saved with a model")
    dataset = AbsolutePoseDataset(index, "test", pose_stats=stats, pose_format="euler", load_depth=True, transform=FrameTransform(resize=(6, 8)))
    item = dataset[1]
    assert item["image"].shape == (3, 6, 8) and item["depth"].shape == (1, 6, 8)
    assert item["pose"].shape == (6,) and item["pose"].dtype == torch.float32
    assert torch.allclose(item["pose"][:3], (item["T_world_cam"][:3, 3] - torch.tensor([1.0, 2.0, 3.0])) / 2.0, atol=1e-5)
    assert torch.allclose(item["intrinsics"], torch.tensor([10.0, 10.0, 3.5, 2.5]))  # 0.5 (c + 0.5) - 0.5
    assert (item["record"], item["camera"], item["frame"]) == ("seq-02", "cam0", "000001")
    unnormalised = AbsolutePoseDataset(index, "test", normalize=False, pose_format="matrix")
    assert unnormalised.pose_stats is None and torch.allclose(unnormalised[1]["pose"], unnormalised[1]["T_world_cam"])


def test_summary_and_record_filter(tmp_path):
    _scene(tmp_path)
    index = load_index("7scenes", tmp_path)
    dataset = AbsolutePoseDataset(index, "train", records=["seq-03"])
    assert len(dataset) == 5 and dataset.record_counts() == {"seq-03": 5}
    text = str(dataset)
    for expected in ("Dataset: AbsolutePoseDataset (7scenes)", "Record: seq-03", "Split: train (official)",
                     "Normalisation: translation mean", "Pose format: quat", "Stereo: False", "Length: 5 of 15",
                     "Cameras: ['cam0']", "Records: ['seq-03']"):
        assert expected in text
    # The record filter does not change the split: seq-03 frames are training frames either way.
    assert dataset.pose_stats.count == 5
    with pytest.raises(DatasetError, match="no record 'seq-09'"):
        AbsolutePoseDataset(index, "train", records="seq-09")


def _kitti_root(tmp_path, sequences):
    (tmp_path / "poses").mkdir(parents=True)
    for name, n in sequences.items():
        write_kitti_sequence(tmp_path / "sequences" / name, n, cameras=(0,))
        (tmp_path / "poses" / f"{name}.txt").write_text(kitti_pose_text([pose(t=(0, 0, float(i))) for i in range(n)]))
    return tmp_path


def test_generated_split_by_record_is_deterministic_and_written_to_the_cache(tmp_path, user_cache_dir):
    root = _kitti_root(tmp_path / "kitti", {"00": 3, "01": 3, "02": 3, "03": 3, "04": 3})
    index = load_index("kitti", root)
    first = assign_splits(index, SplitPolicy(test_fraction=0.4))
    assert first.source is SplitSource.GENERATED_BY_RECORD
    test_records = {key.split("/")[0] for key in first.keys_in(Split.TEST)}
    assert len(test_records) == 2
    assert first.file.parent == user_cache_dir / "splits"
    written = json.loads(first.file.read_text())
    assert written["method"] == "generated-by-record" and len(written["test"]) == 6 and written["val"] == []
    assert assign_splits(load_index("kitti", root), SplitPolicy(test_fraction=0.4)).of_frame == first.of_frame  # deterministic
    train = AbsolutePoseDataset(index, "train", split_policy=SplitPolicy(test_fraction=0.4))
    test = AbsolutePoseDataset(index, "test", split_policy=SplitPolicy(test_fraction=0.4))
    assert set(train.records).isdisjoint(test.records) and len(train) + len(test) == 15
    with pytest.raises(DatasetError, match="no 'val' split"):  # the held-out set is called test everywhere
        AbsolutePoseDataset(index, "val")


def test_generated_split_of_one_record_holds_out_the_end(tmp_path):
    root = _kitti_root(tmp_path / "kitti", {"05": 10})
    assignment = assign_splits(load_index("kitti", root))
    assert assignment.source is SplitSource.GENERATED_BY_TIME
    assert sorted(assignment.keys_in(Split.TEST)) == ["05/image_0/000008", "05/image_0/000009"]
    assert math.isclose(assignment.counts()["train"], 8)


def test_blocks_split_interleaves_test_frames_between_training_frames(sevenscenes_dir):
    """blocks:10:5 holds out the middle block of every 5 blocks of 10 consecutive frames of each record."""
    index = load_index("frames", sevenscenes_dir)
    assignment = assign_splits(index, SplitPolicy.parse("blocks:10:5"), write=False)
    assert assignment.source is SplitSource.GENERATED_BY_BLOCKS
    ordered = sorted(index.frames, key=lambda f: f.order)
    splits = [assignment.of_frame[f.key] for f in ordered]
    assert splits[:20] == [Split.TRAIN] * 20
    assert splits[20:30] == [Split.TEST] * 10 and splits[30:70] == [Split.TRAIN] * 40 and splits[70:80] == [Split.TEST] * 10
    assert assignment.counts()["test"] == 200 == sum(1 for i in range(len(ordered)) if (i // 10) % 5 == 2)
    train = AbsolutePoseDataset(index, "train", split_policy=SplitPolicy(block=10, every=5), cache=False)
    test = AbsolutePoseDataset(index, "test", split_policy=SplitPolicy(block=10, every=5), pose_stats=train.pose_stats)
    assert len(train) + len(test) == len(index.frames)
    assert not {f[0].key for f in train.samples} & {f[0].key for f in test.samples}


def test_blocks_split_of_short_records_holds_out_frames_between_training_frames(tmp_path):
    """The issue's case: blocks:10:5 on 50-frame records held out each record's end; now the middle block."""
    root = _kitti_root(tmp_path / "kitti", {"00": 50, "01": 50, "02": 23})
    index = load_index("kitti", root)
    assignment = assign_splits(index, SplitPolicy.parse("blocks:10:5"), write=False)
    for record, count in (("00", 50), ("01", 50), ("02", 23)):
        test_positions = sorted(int(k.rsplit("/", 1)[1]) for k in assignment.keys_in(Split.TEST) if k.startswith(record))
        assert test_positions == list(range(20, min(30, count)))
        if count == 50:
            assert max(test_positions) < count - 1 and min(test_positions) > 0  # training frames on both sides
    spans = split_spans(index, assignment)
    assert [(s.first_number, s.last_number) for s in spans["00"]["train"]] == [(0, 19), (30, 49)]
    assert [(s.first_position, s.last_position, s.count) for s in spans["00"]["test"]] == [(20, 29, 10)]


@pytest.mark.parametrize("text", ["blocks:10", "blocks:0:5", "blocks:10:1", "random"])
def test_bad_split_policy_is_named(text):
    with pytest.raises(DatasetError, match="split|blocks"):
        SplitPolicy.parse(text)
