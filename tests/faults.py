"""Deliberate defects that tests inject to prove a check catches them."""

from __future__ import annotations

from neurondash.parts.layers import Linear


def output_gradient_one_percent_off(monkeypatch) -> None:
    """Make every output layer's weight gradient 1% too large (its forward stays right)."""
    correct = Linear.backward

    def one_percent_off(self, dout):
        grad = correct(self, dout)
        if self.is_output:
            self.grads["weight"] *= 1.01
        return grad

    monkeypatch.setattr(Linear, "backward", one_percent_off)
