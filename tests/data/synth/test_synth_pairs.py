"""Rendered pairs for pre-training: every pair's ground-truth motion is a motion of the bank (or its mirror
image), the set is deterministic, reused when finished and resumed room by room when interrupted, and its
views load like any frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.data.loader import FrameLoader
from posekit.data.synth.pairs import (
    MotionBank,
    PairExpansion,
    PairRenderConfig,
    concatenate_pair_sets,
    pair_set_dir,
    render_pairs,
)
from posekit.errors import ConfigError, ShapeError
from posekit.geometry import rotation_matrix_angle
from posekit.metrics.relative_motion import motion_magnitudes, pair_motion

MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0], dtype=torch.float64))


def _walk(n: int = 30) -> torch.Tensor:
    """A camera moving 1 cm and turning 0.5 deg about y a frame."""
    poses = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    for i in range(n):
        a = np.radians(0.5 * i)
        poses[i, :3, :3] = torch.tensor([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        poses[i, :3, 3] = torch.tensor([0.01 * i, 0.002 * i, 0.0])
    return poses


def test_motion_bank_holds_every_pair_of_each_distance_both_ways():
    poses = _walk()
    bank = MotionBank.from_poses(poses, (1, 5))
    assert bank.T_src_tgt.shape[0] == 2 * (29 + 25)
    assert torch.equal(bank.distances.unique(), torch.tensor([1, 5]))
    assert torch.allclose(bank.T_src_tgt[:29], pair_motion(poses, 1))
    assert torch.allclose(bank.T_src_tgt[29 + 25:2 * 29 + 25], pair_motion(poses, -1))


def test_mirrored_draws_are_rigid_motions_of_the_same_size():
    bank = MotionBank.isotropic(50, t_max_m=0.2, r_max_deg=8.0, seed=1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        motion, _ = bank.draw(rng, mirror=True)
        motion = torch.from_numpy(motion)
        assert torch.allclose(torch.linalg.det(motion[:3, :3]), torch.tensor(1.0, dtype=torch.float64))
        t, r = motion_magnitudes(motion[None])
        bank_t, bank_r = motion_magnitudes(bank.T_src_tgt)
        assert torch.isclose(bank_t, t).any() and torch.isclose(bank_r, r).any()
    with pytest.raises(ShapeError):
        MotionBank(torch.zeros(0, 4, 4, dtype=torch.float64), torch.zeros(0, dtype=torch.int64))


def test_config_refuses_bad_counts():
    with pytest.raises(ConfigError, match="pairs"):
        PairRenderConfig(pairs=0)
    with pytest.raises(ConfigError, match="median_depth"):
        PairRenderConfig(median_depth=(2.0, 1.0))


CONFIG = PairRenderConfig(pairs=10, sources_per_target=3, pairs_per_room=5, width=48, height=32, focal=44.0)


@pytest.fixture(scope="module")
def bank() -> MotionBank:
    return MotionBank.from_poses(_walk(), (2, 6))


@pytest.fixture(scope="module")
def pair_set(bank, tmp_path_factory):
    return render_pairs(CONFIG, bank, tmp_path_factory.mktemp("pairs"))


def test_every_pair_moves_by_a_bank_motion_or_its_mirror(pair_set, bank):
    assert pair_set.pairs.shape == (10, 2) and len(pair_set.frames) == 2 * (2 + 5)  # 2 rooms: 2 targets, 5 sources
    assert sorted(set(pair_set.rooms.tolist())) == [0, 1]
    candidates = torch.cat((bank.T_src_tgt, MIRROR @ bank.T_src_tgt @ MIRROR))
    for motion, d in zip(pair_set.T_src_tgt(), pair_set.distances):
        error = (candidates - motion).abs().flatten(1).max(dim=1).values
        best = int(error.argmin())
        assert error[best] < 1e-9
        assert int(bank.distances[best % bank.T_src_tgt.shape[0]]) == int(d)
    t, r = motion_magnitudes(pair_set.T_src_tgt())
    assert float(t.max()) < 0.1 and float(r.max()) < 3.5


def test_views_load_as_frames_at_the_rendered_size(pair_set):
    frame = FrameLoader(load_depth=False).load(pair_set.frames[0])
    assert frame.image.shape == (3, 32, 48)
    assert 0.05 < float(frame.image.mean()) < 0.95  # a lit room, not the black background
    assert frame.intrinsics.fx == 44.0
    assert float(rotation_matrix_angle(pair_set.frames[0].T_world_cam[None, :3, :3])) > 0  # a real pose


def test_finished_set_is_reused_and_an_interrupted_one_resumes_identically(pair_set, bank):
    root = pair_set.root.parent
    again = render_pairs(CONFIG, bank, root)
    assert again.seconds == 0.0 and again.root == pair_set.root
    first = {f.image_path.name: f.image_path.read_bytes() for f in pair_set.frames}
    # interrupted after the first room: no manifest, the second room's record gone
    (pair_set.root / "pairs.json").unlink()
    (pair_set.root / "rooms" / "00001.json").unlink()
    resumed = render_pairs(CONFIG, bank, root)
    assert resumed.seconds > 0
    assert torch.equal(resumed.pairs, pair_set.pairs) and torch.allclose(resumed.T_world_cam, pair_set.T_world_cam)
    assert {f.image_path.name: f.image_path.read_bytes() for f in resumed.frames} == first
    assert pair_set_dir(CONFIG, bank, root) != pair_set_dir(PairRenderConfig(**{**CONFIG.__dict__, "seed": 1}), bank, root)


def test_group_pairs(pair_set):
    assert torch.equal(pair_set.group_pairs(PairExpansion.GIVEN), pair_set.pairs)
    both = pair_set.group_pairs("both")
    assert both.shape == (20, 2) and torch.equal(both[10:], pair_set.pairs.flip(1))
    everything = pair_set.group_pairs("all")
    # groups of 1 target + 3 sources and 1 target + 2 sources in each room: 12 + 6 ordered pairs each
    assert everything.shape == (2 * (12 + 6), 2)
    assert {tuple(p) for p in pair_set.pairs.tolist()} <= {tuple(p) for p in everything.tolist()}
    assert bool((everything[:, 0] != everything[:, 1]).all())


def test_concatenated_sets_keep_each_pairs_motion(pair_set):
    both = concatenate_pair_sets([pair_set, pair_set])
    assert len(both.frames) == 2 * len(pair_set.frames) and both.pairs.shape == (20, 2)
    assert torch.allclose(both.T_src_tgt(), torch.cat([pair_set.T_src_tgt()] * 2))
    with pytest.raises(ConfigError):
        concatenate_pair_sets([])
