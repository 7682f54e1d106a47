"""Lower bound for any per-op NumPy engine on this machine.

The makemore MLP of bench_engine.py (5 x 100 BatchNorm + tanh, batch 32, float32, SGD)
written as one hand-fused function: no classes, no running statistics, no recording.
Compare its us/step with bench_engine.py to see how much of the engine's time is its own
overhead and how much is NumPy itself.

    python benchmarks/numpy_floor.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

VOCAB, CONTEXT, EMBED, HIDDEN, DEPTH, BATCH, LR = 27, 3, 10, 100, 5, 32, 0.1


def make_step():
    rng = np.random.default_rng(0)
    f32 = np.float32
    table = rng.standard_normal((VOCAB, EMBED)).astype(f32)
    fans = [CONTEXT * EMBED] + [HIDDEN] * (DEPTH - 1)
    weights = [(rng.standard_normal((fan, HIDDEN)) * (5 / 3) / np.sqrt(fan)).astype(f32)
               for fan in fans]
    gains = [np.ones(HIDDEN, f32) for _ in range(DEPTH)]
    shifts = [np.zeros(HIDDEN, f32) for _ in range(DEPTH)]
    w_out = (rng.standard_normal((HIDDEN, VOCAB)) * 0.1).astype(f32)
    b_out = np.zeros(VOCAB, f32)
    xs = rng.integers(0, VOCAB, (200_000, CONTEXT))
    ys = rng.integers(0, VOCAB, 200_000)
    ones, ones_v, rows = np.ones(BATCH, f32), np.ones(VOCAB, f32), np.arange(BATCH)

    def step() -> float:
        idx = rng.integers(0, len(ys), BATCH)
        x, y = xs[idx], ys[idx]
        h = table[x].reshape(BATCH, -1)
        cache = []
        for w, gain, shift in zip(weights, gains, shifts, strict=True):
            z = h @ w
            mean = ones @ z
            mean *= 1 / BATCH
            centered = z - mean
            var = ones @ (centered * centered)
            var *= 1 / BATCH
            inv = 1 / np.sqrt(var + 1e-5)
            out = centered * (gain * inv)
            out += shift
            act = np.tanh(out)
            cache.append((h, centered, inv, act))
            h = act
        logits = h @ w_out
        logits += b_out
        shifted = logits - logits.max(1, keepdims=True)
        probs = np.exp(shifted)
        total = probs @ ones_v
        loss = (np.log(total).sum() - shifted[rows, y].sum()) / BATCH
        probs *= (1 / (BATCH * total))[:, None]
        probs[rows, y] -= 1 / BATCH
        grad_h = probs @ w_out.T
        np.subtract(w_out, LR * (h.T @ probs), out=w_out)
        np.subtract(b_out, LR * (ones @ probs), out=b_out)
        for i in range(DEPTH - 1, -1, -1):
            h_in, centered, inv, act = cache[i]
            d_out = grad_h * (1 - act * act)
            d_gain = ones @ (d_out * centered)
            d_gain *= inv
            d_shift = ones @ d_out
            coef = gains[i] * inv
            dz = d_out * coef
            dz -= coef * d_shift * (1 / BATCH)
            dz -= centered * (coef * inv * d_gain * (1 / BATCH))
            grad_h = dz @ weights[i].T
            weights[i] -= LR * (h_in.T @ dz)
            gains[i] -= LR * d_gain
            shifts[i] -= LR * d_shift
        onehot = np.zeros((BATCH * CONTEXT, VOCAB), f32)
        onehot[np.arange(BATCH * CONTEXT), x.ravel()] = 1
        np.subtract(table, LR * (onehot.T @ grad_h.reshape(-1, EMBED)), out=table)
        return float(loss)

    return step


def make_kernels_only():
    """Only the step's matrix products and tanh calls, on the same shapes: the part of a
    step no NumPy engine can avoid, whatever it does with the rest."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    h0 = rng.standard_normal((BATCH, CONTEXT * EMBED)).astype(f32)
    h = rng.standard_normal((BATCH, HIDDEN)).astype(f32)
    first = rng.standard_normal((CONTEXT * EMBED, HIDDEN)).astype(f32)
    square = rng.standard_normal((HIDDEN, HIDDEN)).astype(f32)
    w_out = rng.standard_normal((HIDDEN, VOCAB)).astype(f32)
    probs = rng.standard_normal((BATCH, VOCAB)).astype(f32)
    onehot = rng.standard_normal((BATCH * CONTEXT, VOCAB)).astype(f32)

    def step() -> None:
        np.tanh(h0 @ first)
        for _ in range(DEPTH - 1):
            np.tanh(h @ square)
        _ = h @ w_out
        _ = probs @ w_out.T, h.T @ probs
        for _ in range(DEPTH - 1):
            _ = h @ square.T, h.T @ h
        _ = h @ first.T, h0.T @ h, onehot.T @ h0.reshape(-1, EMBED)

    return step


def fastest_us(step, rounds: int = 10, steps: int = 200) -> float:
    for _ in range(steps):
        step()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - start) / steps * 1e6)
    return best


def main() -> None:
    floor, kernels = make_step(), make_kernels_only()
    print(f"hand-fused NumPy makemore step (floor for a per-op NumPy engine): "
          f"{fastest_us(floor):.1f} us/step")
    print(f"  of which matrix products and tanh alone (same shapes): "
          f"{fastest_us(kernels):.1f} us/step")


if __name__ == "__main__":
    main()
