"""The estimators ``posekit eval relpose`` compares (a module of its own, light to import, for the CLI's choices)."""

from __future__ import annotations

from enum import Enum


class RelativePoseMethod(str, Enum):
    """An estimator of ``T_src_tgt``; the value is the file stem of its results."""

    NETWORK = "network"
    NETWORK_REFINED = "network_refined"
    DIRECT = "direct"
    ORB_PNP = "orb_pnp"
    IDENTITY = "identity"  # "no motion": the reference any estimator must beat

    @property
    def needs_model(self) -> bool:
        return self in (RelativePoseMethod.NETWORK, RelativePoseMethod.NETWORK_REFINED)

    @property
    def needs_depth(self) -> bool:
        return self in (RelativePoseMethod.NETWORK_REFINED, RelativePoseMethod.DIRECT, RelativePoseMethod.ORB_PNP)
