"""Small building blocks shared by the pose and depth networks: Kaiming initialisation of new layers and
fully connected stacks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def kaiming_init(module: nn.Module) -> None:
    """Kaiming-He normal initialisation (fan-in, ReLU gain) of every Linear and Conv2d in ``module``; zero biases."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def mlp(in_features: int, hidden: Sequence[int], out_features: int, dropout: float = 0.0) -> nn.Sequential:
    """``Linear -> ReLU (-> Dropout)`` for each hidden width, then a final ``Linear`` to ``out_features``.

    Example:
        >>> mlp(8, (16, 16), 3)
        Sequential(
          (0): Linear(in_features=8, out_features=16, bias=True)
          (1): ReLU()
          (2): Linear(in_features=16, out_features=16, bias=True)
          (3): ReLU()
          (4): Linear(in_features=16, out_features=3, bias=True)
        )
    """
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)
