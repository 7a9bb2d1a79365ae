"""Image retrieval as a pose estimator: the pose of the most similar training image.

Sattler et al. (CVPR 2019) showed that absolute pose regressors are often no more accurate than this baseline,
so every PoseNet result is reported beside it. Similarity is the cosine of global (average-pooled) backbone
features.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from posekit.geometry.checks import check_shape


@dataclass
class RetrievalIndex:
    """Database of training images: L2-normalised features and their camera poses.

    Attributes:
        features: ``(N, C)`` unit-norm global descriptors.
        T_world_cam: ``(N, 4, 4)`` poses of the database images.
        names: ``N`` frame names.
    """

    features: torch.Tensor
    T_world_cam: torch.Tensor
    names: list[str]

    def __repr__(self) -> str:
        """Size of the database, not its tensors."""
        first = f", first {self.names[0]!r}" if self.names else ""
        return f"RetrievalIndex({self.features.shape[0]} images, {self.features.shape[1]}-d features{first})"

    @classmethod
    def build(cls, features: torch.Tensor, T_world_cam: torch.Tensor, names: list[str]) -> RetrievalIndex:
        """Index ``(N, C)`` raw features (normalised here) with their ``(N, 4, 4)`` poses."""
        check_shape("features", features, (None, None))
        check_shape("T_world_cam", T_world_cam, (features.shape[0], 4, 4))
        if len(names) != features.shape[0]:
            raise ValueError(f"names: expected {features.shape[0]}, got {len(names)}")
        return cls(F.normalize(features.float(), dim=1), T_world_cam, list(names))

    def query(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest database image of each query.

        Args:
            features: ``(M, C)`` raw query features.

        Returns:
            ``(M, 4, 4)`` retrieved poses and ``(M,)`` database indices.
        """
        check_shape("features", features, (None, self.features.shape[1]))
        similarity = F.normalize(features.float(), dim=1) @ self.features.T
        nearest = similarity.argmax(dim=1)
        return self.T_world_cam[nearest], nearest
