"""PoseSequence's optional toe tips: saved, loaded, selected; files without them load as NaN."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from turnout_vision.sequence import PoseSequence


def _seq(n: int = 4) -> PoseSequence:
    rng = np.random.default_rng(0)
    return PoseSequence(image_xy=rng.uniform(0, 500, (n, 33, 2)), world_xyz=rng.normal(size=(n, 33, 3)),
                        visibility=np.ones((n, 33)), timestamps_s=np.arange(n) / 25.0, frame_size_wh=(640, 480),
                        toe_tip_xy=rng.uniform(0, 500, (n, 2, 2)))


def test_toe_tips_round_trip_and_select(tmp_path: Path) -> None:
    seq = _seq()
    back = PoseSequence.load_npz(seq.save_npz(tmp_path / "a.npz"))
    np.testing.assert_array_equal(back.toe_tip_xy, seq.toe_tip_xy)
    np.testing.assert_array_equal(seq.select(slice(1, 3)).toe_tip_xy, seq.toe_tip_xy[1:3])


def test_a_file_without_toe_tips_loads_them_as_nan(tmp_path: Path) -> None:
    seq = _seq()
    path = tmp_path / "old.npz"
    np.savez(path, image_xy=seq.image_xy, world_xyz=seq.world_xyz, visibility=seq.visibility,
             timestamps_s=seq.timestamps_s, frame_size_wh=seq.frame_size_wh)
    back = PoseSequence.load_npz(path)
    assert back.toe_tip_xy.shape == (4, 2, 2) and np.isnan(back.toe_tip_xy).all()
