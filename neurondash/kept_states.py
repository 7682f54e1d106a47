"""A run's snapshot weights: held in memory, or kept as digests and rebuilt by replaying
the run's training (a run file keeps 16 bytes a snapshot, not the weights)."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping

import numpy as np


def state_digest(state: dict) -> str:
    """BLAKE2b digest of a model state: its parameters' bytes, then each buffer's name and
    bytes in name order (``runfile.Digest``)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(state["params"]).tobytes())
    for name in sorted(state["buffers"]):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(state["buffers"][name]).tobytes())
    return digest.hexdigest()


class KeptStates(Mapping):
    """Snapshot step -> {"params", "buffers"} of the model there: copies held in memory (a
    run just trained) or, for a run read from a file, rebuilt on first use by replaying
    its training (``training.replay_state``) and checked against the digest the file
    keeps, then held. A replay that does not give that digest (another BLAS kernel) leaves
    the step out, with a warning: the views then show the weights after training, as for
    a run whose weights were not kept."""

    def __init__(self, states: dict[int, dict] | None = None,
                 digests: dict[int, str] | None = None, replay=None):
        self._states = dict(states or {})
        self._digests = dict(digests or {})
        self.replay = replay
        """step -> state, from training again (set by the Run that owns these states)."""

    def __getitem__(self, step: int) -> dict:
        if step in self._states:
            return self._states[step]
        if step not in self._digests or self.replay is None:
            raise KeyError(step)
        state = self.replay(step)
        if state_digest(state) != self._digests[step]:
            del self._digests[step]
            warnings.warn(f"replaying training to step {step} did not give the weights the "
                          "run file describes (another BLAS kernel or NumPy?): the views "
                          "show the weights after training there", RuntimeWarning,
                          stacklevel=2)
            raise KeyError(step)
        self._states[step] = state
        return state

    def get(self, step, default=None):
        try:
            return self[step]
        except KeyError:
            return default

    def __contains__(self, step) -> bool:
        return step in self._states or step in self._digests

    def __iter__(self):
        return iter(sorted({*self._states, *self._digests}))

    def __len__(self) -> int:
        return len({*self._states, *self._digests})

    def __setitem__(self, step: int, state: dict) -> None:
        self._states[step] = state
        self._digests.pop(step, None)

    def pop(self, step: int, default=None):
        self._digests.pop(step, None)
        return self._states.pop(step, default)

    def clear(self) -> None:
        self._states.clear()
        self._digests.clear()

    def held(self) -> dict[int, dict]:
        """The states in memory now (no replay)."""
        return dict(self._states)

    def digests(self) -> dict[int, str]:
        """Every step's digest, without replaying any."""
        known = {step: state_digest(state) for step, state in self._states.items()}
        return dict(sorted({**self._digests, **known}.items()))

    def copy(self) -> KeptStates:
        return KeptStates(self._states, self._digests, self.replay)

    def __eq__(self, other) -> bool:
        if isinstance(other, Mapping):
            other = other if isinstance(other, KeptStates) else KeptStates(dict(other))
            return self.digests() == other.digests()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"KeptStates({len(self._states)} held, "
                f"{len(set(self._digests) - set(self._states))} to replay)")


def as_kept_states(states: dict | KeptStates) -> KeptStates:
    return states.copy() if isinstance(states, KeptStates) else KeptStates(states)
