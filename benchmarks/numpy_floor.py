"""Lower bound for any per-op NumPy engine on this machine.

The makemore MLP of bench_engine.py (5 x 100 BatchNorm + tanh, batch 32, float32, SGD)
written as one hand-fused function: no classes, no running statistics, no recording, and
every trick that saves a NumPy call.
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
    """The step with every trick a per-op engine could use: one flat parameter and one flat
    gradient buffer (a two-call SGD update), gradients written in place, batch means as a
    matrix-vector product with 1/n, the BatchNorm scale copied out to full size once (so its
    two products are not row broadcasts), in-place activation and loss arithmetic, 0-d
    constants instead of Python floats, the ndarray.dot method rather than np.dot or matmul,
    take() for gathers, flat target indices, and batch indices drawn in bulk."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    fans = [CONTEXT * EMBED] + [HIDDEN] * (DEPTH - 1)
    shapes = ([(VOCAB, EMBED)] + [(fan, HIDDEN) for fan in fans]
              + [(HIDDEN,)] * (2 * DEPTH) + [(HIDDEN, VOCAB), (VOCAB,)])
    sizes = [int(np.prod(shape)) for shape in shapes]
    flat, grad, update = (np.zeros(sum(sizes), f32) for _ in range(3))
    spans = list(zip(np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes), shapes, strict=True))
    params = [flat[a:b].reshape(shape) for a, b, shape in spans]
    grads = [grad[a:b].reshape(shape) for a, b, shape in spans]
    table, weights = params[0], params[1:DEPTH + 1]
    gains, shifts = params[DEPTH + 1:3 * DEPTH + 1:2], params[DEPTH + 2:3 * DEPTH + 2:2]
    w_out, b_out = params[-2], params[-1]
    d_table, d_weights = grads[0], grads[1:DEPTH + 1]
    d_gains, d_shifts = grads[DEPTH + 1:3 * DEPTH + 1:2], grads[DEPTH + 2:3 * DEPTH + 2:2]
    d_w_out, d_b_out = grads[-2], grads[-1]
    table[...] = rng.standard_normal((VOCAB, EMBED))
    for w, fan in zip(weights, fans, strict=True):
        w[...] = rng.standard_normal((fan, HIDDEN)) * (5 / 3) / np.sqrt(fan)
    for gain in gains:
        gain[...] = 1.0
    w_out[...] = rng.standard_normal((HIDDEN, VOCAB)) * 0.1
    xs = rng.integers(0, VOCAB, (200_000, CONTEXT))
    ys = rng.integers(0, VOCAB, 200_000)
    batches = iter(())
    ones, means = np.ones(BATCH, f32), np.full(BATCH, 1 / BATCH, f32)
    ones_v, row_starts = np.ones(VOCAB, f32), np.arange(BATCH) * VOCAB
    eps, one, inv_batch = np.array(1e-5, f32), np.array(1.0, f32), np.array(1 / BATCH, f32)
    onehot = np.zeros((BATCH * CONTEXT, VOCAB), f32)
    flat_onehot, onehot_starts = onehot.reshape(-1), np.arange(BATCH * CONTEXT) * VOCAB

    def step() -> float:
        nonlocal batches
        idx = next(batches, None)
        if idx is None:
            batches = iter(rng.integers(0, len(ys), (1000, BATCH)))
            idx = next(batches)
        x, y = xs.take(idx, axis=0), ys.take(idx)
        h = table.take(x, axis=0).reshape(BATCH, -1)
        cache = []
        for w, gain, shift in zip(weights, gains, shifts, strict=True):
            z = h.dot(w)
            centered = z - means.dot(z)
            var = means.dot(centered * centered)
            var += eps
            std = np.sqrt(var, out=var)
            scale = np.divide(gain, std)
            scale_rows = np.empty_like(centered)
            np.copyto(scale_rows, scale)
            act = centered * scale_rows
            act += shift
            np.tanh(act, out=act)
            cache.append((h, centered, std, scale, scale_rows, act))
            h = act
        logits = h.dot(w_out)
        logits += b_out
        logits -= np.maximum.reduce(logits, axis=1, keepdims=True)
        target = row_starts + y
        flat_logits = logits.reshape(-1)
        terms = flat_logits[target]
        probs = np.exp(logits, out=logits)
        total = probs.dot(ones_v)
        np.subtract(np.log(total), terms, out=terms)
        loss = np.add.reduce(terms) / BATCH
        total *= BATCH
        np.reciprocal(total, out=total)
        probs *= total[:, None]
        flat_logits[target] -= inv_batch
        grad_h = probs.dot(w_out.T)
        h.T.dot(probs, d_w_out)
        ones.dot(probs, d_b_out)
        for i in range(DEPTH - 1, -1, -1):
            h_in, centered, std, scale, scale_rows, act = cache[i]
            d_out = act * act
            np.subtract(one, d_out, out=d_out)
            d_out *= grad_h
            ones.dot(d_out * centered, d_gains[i])
            d_gains[i] /= std
            ones.dot(d_out, d_shifts[i])
            scale_n = scale * inv_batch
            dz = d_out * scale_rows
            dz -= scale_n * d_shifts[i]
            k = scale_n / std
            k *= d_gains[i]
            centered *= k
            dz -= centered
            grad_h = dz.dot(weights[i].T)
            h_in.T.dot(dz, d_weights[i])
        onehot.fill(0.0)
        flat_onehot[onehot_starts + x.ravel()] = 1.0
        onehot.T.dot(grad_h.reshape(-1, EMBED), d_table)
        np.multiply(grad, LR, out=update)
        np.subtract(flat, update, out=flat)
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
        np.tanh(h0.dot(first))
        for _ in range(DEPTH - 1):
            np.tanh(h.dot(square))
        _ = h.dot(w_out)
        _ = probs.dot(w_out.T), h.T.dot(probs)
        for _ in range(DEPTH - 1):
            _ = h.dot(square.T), h.T.dot(h)
        _ = h.dot(first.T), h0.T.dot(h), onehot.T.dot(h0.reshape(-1, EMBED))

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
