"""Frame ranges (numbers, positions, per record), the validation set and the training range of an evaluation."""

from __future__ import annotations

import dataclasses

import pytest

from posekit.data import Split, load_index
from posekit.data.selection import FrameRange, FrameRanges, restrict_to_frames
from posekit.data.splits import assign_splits
from posekit.errors import ConfigError
from posekit.evaluation.frames import EvalFrames, eval_data_config
from posekit.training.frame_data import FrameDataConfig, resolve_frame_sides
from tests.data.layouts import kitti_pose_text, pose, write_kitti_sequence


@pytest.fixture
def two_records(tmp_path):
    """KITTI sequences 00 (30 frames) and 01 (20 frames), both numbered from 0."""
    (tmp_path / "poses").mkdir()
    for name, count in (("00", 30), ("01", 20)):
        write_kitti_sequence(tmp_path / "sequences" / name, count, cameras=(0,))
        (tmp_path / "poses" / f"{name}.txt").write_text(kitti_pose_text([pose(t=(0, 0, float(i))) for i in range(count)]))
    return tmp_path


def _numbers(index, record):
    return sorted(f.order for f in index.frames if f.record_id == record)


def test_range_grammar():
    assert FrameRange.parse("0-799") == FrameRange(0, 799)
    assert FrameRange.parse("@5") == FrameRange(5, 5, by_position=True)
    assert FrameRange.parse("fragment-1:0-34") == FrameRange(0, 34, by_position=True, record="fragment-1")
    assert str(FrameRanges.parse("fragment-1:0-34, @3-4,7")) == "fragment-1:0-34,@3-4,7"
    for bad in ("", ":3-4", "a:b", "@-1", "3-1", "x:1-2-3"):
        with pytest.raises(ConfigError, match="frame range"):
            FrameRanges.parse(bad)


def test_numbers_positions_and_records_select_different_frames(two_records):
    index = load_index("kitti", two_records)
    later = restrict_to_frames(index, "10-29")  # numbers: 00 keeps 10-29, 01 keeps 10-19
    assert _numbers(later, "00") == list(range(10, 30)) and _numbers(later, "01") == list(range(10, 20))
    first_two = restrict_to_frames(later, "@0-1")  # positions: the first two frames of each record
    assert _numbers(first_two, "00") == [10, 11] and _numbers(first_two, "01") == [10, 11]
    one_record = restrict_to_frames(later, "01:0-2,00:19")  # positions within one record
    assert _numbers(one_record, "00") == [29] and _numbers(one_record, "01") == [10, 11, 12]
    with pytest.raises(ConfigError, match="no record '02'"):
        restrict_to_frames(index, "02:0-3")
    with pytest.raises(ConfigError, match="no frame"):
        restrict_to_frames(index, "100-200")


def plain_test_keys(sides):
    return assign_splits(sides.test.index, sides.policy, write=False).keys_in(Split.TEST)


def test_validation_frames_come_out_of_training_and_never_from_test(two_records):
    config = FrameDataConfig(dataset="kitti", data=str(two_records), split="blocks:5:3", image_size=(32, 32))
    plain = resolve_frame_sides(config)
    assert plain.val is None and plain.validation is plain.test and plain.test.split is Split.TEST
    with_val = resolve_frame_sides(dataclasses.replace(config, val_frames="@0-4"))
    train_keys = {f.key for f in with_val.train.index.frames}
    val_keys = {f.key for f in with_val.val.index.frames}
    assert with_val.validation is with_val.val and len(val_keys) == 10  # 5 positions x 2 records
    test_keys = {f.key for f in with_val.test.index.frames if f.key in plain_test_keys(plain)}
    # blocks:5:3 tests blocks 1 and 4 of 00 (10 frames) and block 1 of 01 (5 frames): 50 - 15 test - 10 val = 25
    assert not train_keys & val_keys and not test_keys & (train_keys | val_keys) and len(train_keys) == 25
    with pytest.raises(ConfigError, match="both validation .* and held-out"):
        resolve_frame_sides(dataclasses.replace(config, val_frames="@5-6"))  # blocks:5:3 tests positions 5-9
    with pytest.raises(ConfigError, match="both training .* and validation"):
        resolve_frame_sides(dataclasses.replace(config, split="auto", train_frames="0-9", test_frames="20-29",
                                                val_frames="5-12"))


def test_an_evaluation_can_state_the_training_range(two_records):
    model = FrameDataConfig(dataset="kitti", data="elsewhere", train_frames="0-19", test_frames="20-29",
                            image_size=(32, 32))
    chosen = eval_data_config("kitti", two_records, EvalFrames(test_frames="10-19"), model, (32, 32))
    assert chosen.train_frames == "0-19"
    with pytest.raises(ConfigError, match="both training"):  # the model's numbers overlap the other data's
        resolve_frame_sides(chosen)
    stated = eval_data_config("kitti", two_records, EvalFrames(test_frames="10-19", train_frames="@25-29"), model, (32, 32))
    sides = resolve_frame_sides(stated)
    assert sorted({f.order for f in sides.test.index.frames}) == list(range(10, 20))
