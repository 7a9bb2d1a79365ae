"""Frame ranges and record selection of the map and localise commands."""

from __future__ import annotations

import pytest
import torch

from posekit.data.records import FrameRecord
from posekit.errors import ConfigError, DatasetError
from posekit.geometry.camera import PinholeIntrinsics
from posekit.mapping.frames import WorkingSize, parse_frame_ranges, select_frames, select_records


def _frame(record: str, order: int) -> FrameRecord:
    return FrameRecord(f"/x/{record}/{order}.png", torch.eye(4), PinholeIntrinsics(50.0, 50.0, 15.5, 11.5, 32, 24),
                       record, "cam0", f"{order:06d}", order)


def test_parse_frame_ranges():
    assert parse_frame_ranges("0-3,7") == {0, 1, 2, 3, 7}
    assert parse_frame_ranges("all") is None and parse_frame_ranges(None) is None
    for bad in ("3-1", "a-b", "1-", ""):
        with pytest.raises(ConfigError):
            parse_frame_ranges(bad)


def test_select_frames_and_records():
    frames = [_frame("seq-02", 1), _frame("seq-01", 5), _frame("seq-01", 2)]
    assert [f.order for f in select_frames(frames, {2, 5, 9})] == [2, 5]
    with pytest.raises(DatasetError, match="--test-frames"):
        select_frames(frames, {100}, "--test-frames")
    assert [f.record_id for f in select_records(frames, "seq-02")] == ["seq-02"]
    with pytest.raises(ConfigError, match="seq-09"):
        select_records(frames, "seq-01,seq-09")


def test_working_size():
    assert WorkingSize.parse("240x320").hw == (240, 320)
    with pytest.raises(ConfigError):
        WorkingSize.parse("320")
