"""The estimators ``posekit eval relpose`` compares (a module of its own, light to import, for the CLI's choices)."""

from __future__ import annotations

from enum import Enum


class RelPoseMethod(str, Enum):
    """An estimator of ``T_src_tgt``; the value is the file stem of its results."""

    NETWORK = "network"
    NETWORK_REFINED = "network_refined"
    DIRECT = "direct"
    ORB_PNP = "orb_pnp"
    IDENTITY = "identity"  # "no motion": the reference any estimator must beat

    @property
    def needs_model(self) -> bool:
        return self in (RelPoseMethod.NETWORK, RelPoseMethod.NETWORK_REFINED)

    @property
    def needs_depth(self) -> bool:
        return self in (RelPoseMethod.NETWORK_REFINED, RelPoseMethod.DIRECT, RelPoseMethod.ORB_PNP)
