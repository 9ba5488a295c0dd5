"""Tensor-parallel training: one training step split over several processes (CPU cores).

NumPy runs an elementwise update (the optimizer: a third of an MNIST step) on one core,
and two Python threads cannot share the work: each NumPy call takes the GIL. So the step
is split across processes the way large models are split across GPUs (Megatron-LM's
tensor parallelism): every hidden layer's units are cut into ``P`` contiguous shards, and
process ``r`` owns shard ``r`` of every layer:

    hidden layer l:  W_l[:, S_l^r], b_l[S_l^r]       (its units' incoming weights)
    output layer:    W_out[S_L^r, :]                 (the outgoing weights of its last-layer units)

A step on process r, with one exchange through shared memory per layer boundary:

    forward    a^r = f(A_{l-1} W_l^r + b_l^r)          (N, |S_l^r|); then an all-gather
                                                      gives every process the full A_l
               z^r = a_L^r W_out^r (+ b_out on r=0)   (N, C) partial logits; summed over
                                                      all processes (an all-reduce)
    loss       the same softmax/CE on every process, from the same summed logits
    backward   dW_out^r = a_L^rᵀ dz, dA_L^r = dz W_out^rᵀ      no exchange needed
               dW_l^r = A_{l-1}ᵀ dz_l^r; dA_{l-1} = Σ_r dz_l^r W_l^rᵀ   an all-reduce
    update     each process steps the optimizer on its own shards only

The optimizers are elementwise, so the updates are the serial ones; the result differs from
one process's only by float rounding (the partial logits are summed in another order).
Dropout draws the full mask on every process from identical generators and keeps its own
columns, so the masks are the serial ones too.

Every process makes its own copy of each batch (the shuffled order and augmentation's
random transforms come from the seed and the epoch:
:class:`~mlp_engine.batches.EpochBatches`), so the others never wait for process 0 to hand
a batch over, only for the exchanges. Augmented batches are made together: each process
transforms its slice of the rows into shared memory.

Each process's first layer is a :class:`~mlp_engine.engines.sparse_input.SparseInputDense`
(it runs on one core, where skipping a batch's zero inputs pays).

The other processes are forked when training starts (``with``) and joined when it ends. At
each :meth:`TensorParallel.end_epoch` (the Trainer calls it after every epoch) the shards are
copied back into the model and the optimizer: between epochs, everything (checkpoints,
statistics, validation) sees one ordinary model. Exchanges wait by spinning
on counters in shared memory (microseconds), falling back to yielding and then sleeping
when a peer is slow, so a paused run does not burn a core. Linux and x86-64 only: fork,
and stores that other cores see in program order.
"""

from __future__ import annotations

import mmap
import os
import platform
import sys
import time
import traceback
from contextlib import ExitStack
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..batches import EpochBatches
from ..layers import Dense, Dropout
from ..model import MLP, layer_of
from ..optimizers import Optimizer
from .sparse_input import SparseInputDense

#: Splitting pays when a step is big enough to hide the exchanges (tens of microseconds)
#: and an epoch long enough to hide the forking and gathering (about 25 ms): at least this
#: many parameters, and parameters x steps per epoch. MNIST's 784-512-10 has 407k and 3.8e8.
MIN_SPLIT_PARAMS = 100_000
MIN_SPLIT_WORK = 50_000_000
#: Spins before a waiting process starts yielding the core, then sleeping.
SPINS_BEFORE_YIELD = 20_000
SECONDS_BEFORE_SLEEP = 0.05
#: How often (in wait iterations) a waiting process checks that its peers are alive.
LIVENESS_EVERY = 4096
# Slots of the control array: 1 + the epoch process 0 has begun; stop.
EPOCH, STOP = 0, 1


def shared_array(shape: tuple, dtype) -> np.ndarray:
    """Zeros in memory that forked processes share (an anonymous shared mapping)."""
    count = int(np.prod(shape, dtype=np.int64))
    dtype = np.dtype(dtype)
    buffer = mmap.mmap(-1, max(count * dtype.itemsize, 1))  # MAP_SHARED | MAP_ANONYMOUS
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def shared_copy(a: np.ndarray) -> np.ndarray:
    out = shared_array(a.shape, a.dtype)
    out[...] = a
    return out


def unsupported_reason(model: MLP, processes: int) -> str | None:
    """Why ``model`` cannot train on ``processes`` processes, or None when it can."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return f"tensor-parallel training needs Linux on x86-64 (this is {sys.platform} on {platform.machine()})"
    widths = [d.W.shape[1] for d in model.dense[:-1]]  # a model has at least one hidden layer
    if min(widths) < processes:
        return f"every hidden layer needs at least {processes} units to split over {processes} processes"
    return None


def processes_for(model: MLP, n_examples: int, batch_size: int, cores: int) -> int:
    """How many processes to train ``model`` on, given ``cores``: all of them where
    splitting pays and the model can be split, else 1."""
    steps = -(-n_examples // batch_size)
    big_enough = model.n_params >= MIN_SPLIT_PARAMS and model.n_params * steps >= MIN_SPLIT_WORK
    return cores if cores > 1 and big_enough and unsupported_reason(model, cores) is None else 1


def _bounds(width: int, processes: int, rank: int) -> slice:
    return slice(width * rank // processes, width * (rank + 1) // processes)


class _ShardDropout:
    """Inverted dropout on a column shard: draws the whole layer's mask (as the serial
    Dropout does, so the generators stay in step) and keeps this shard's columns."""

    def __init__(self, dropout: Dropout, width: int, cols: slice):
        self.dropout, self.width, self.cols = dropout, width, cols
        self._mask = None

    def forward(self, a: np.ndarray) -> np.ndarray:
        d = self.dropout
        keep = d.rng.random((a.shape[0], self.width), dtype=a.dtype)[:, self.cols] >= d.rate
        self._mask = keep * a.dtype.type(1.0 / (1.0 - d.rate))
        return a * self._mask

    def backward(self, da: np.ndarray) -> np.ndarray:
        return np.multiply(da, self._mask, out=da)


class _Shard:
    """Process ``rank``'s part of the model: Dense layers over its shards (the first a
    :class:`SparseInputDense`), in shared memory (weights and gradients), with their own
    optimizer whose state is shared too."""

    def __init__(self, model: MLP, optimizer: Optimizer, processes: int, rank: int):
        self.rank = rank
        dense = model.dense
        following = {id(a): b for a, b in zip(model.layers, model.layers[1:])}
        self.cols = [_bounds(d.W.shape[1], processes, rank) for d in dense[:-1]]
        self.hidden: list[Dense] = []
        self.dropout: list[_ShardDropout | None] = []
        for l, (d, cols) in enumerate(zip(dense[:-1], self.cols)):
            self.hidden.append(self._dense(d.name, d.W[:, cols], d.b[cols], d.activation.name))
            drop = following.get(id(d))
            active = isinstance(drop, Dropout) and drop.rate > 0
            self.dropout.append(_ShardDropout(drop, d.W.shape[1], cols) if active else None)
        self.hidden[0] = SparseInputDense.over(self.hidden[0])  # pays on one core
        out = dense[-1]
        bias = out.b if rank == 0 else np.zeros_like(out.b)  # the output bias lives on process 0
        self.out = self._dense(out.name, out.W[self.cols[-1]], bias, out.activation.name)
        self.params, self.grads = {}, {}
        for layer in [*self.hidden, self.out]:
            for name, p in layer.params().items():
                if layer is self.out and name.endswith(".b") and rank != 0:
                    continue
                self.params[name], self.grads[name] = p, layer.grads[name]
        self.optimizer = type(optimizer)(**optimizer.hyperparameters())
        self.optimizer.t = optimizer.t
        for name, p in self.params.items():
            full = optimizer.state.get(name)
            index = self.index(name)
            self.optimizer.state[name] = {
                k: shared_copy(full[k][index]) if full else shared_array(p.shape, p.dtype) for k in optimizer.STATE
            }

    @staticmethod
    def _dense(name: str, W: np.ndarray, b: np.ndarray, activation: str) -> Dense:
        layer = Dense(name, shared_copy(W), shared_copy(b), activation)
        layer.dW, layer.db = (shared_copy(g) for g in (layer.dW, layer.db))
        layer.grads = {f"{name}.W": layer.dW, f"{name}.b": layer.db}
        return layer

    def index(self, name: str):
        """Where parameter ``name`` of this shard sits in the full parameter."""
        l, kind = layer_of(name), name.rsplit(".", 1)[1]
        if l < len(self.cols):
            return (slice(None), self.cols[l]) if kind == "W" else self.cols[l]
        return self.cols[-1] if kind == "W" else slice(None)

    def penalty(self) -> float:
        """Σ‖W‖² over this shard's weight matrices (for the L2 term of the loss)."""
        return sum(float(np.vdot(layer.W, layer.W)) for layer in [*self.hidden, self.out])


class TensorParallel:
    """``with TensorParallel(...) as engine:`` runs training steps on ``processes``
    processes (this one is process 0). Same interface as the serial step: at the start of
    each epoch ``batches = engine.begin_epoch(epoch)``, then for each of its batches, in
    order, ``loss, logits = engine.step(batches, b, batches.labels(b), lr)``;
    ``engine.end_epoch()`` puts the trained shards in ``model`` and ``optimizer``.

    ``batches_for(epoch)`` gives an epoch's batches (the same in every process): the others
    make each batch themselves, so they never wait for process 0 to hand one over; they
    wait only to exchange partial results, and for the next epoch.
    """

    def __init__(self, model: MLP, optimizer: Optimizer, *, l2: float, clip_norm: float | None,
                 batches_for: Callable[[int], EpochBatches], processes: int = 2):
        reason = unsupported_reason(model, processes)
        if reason:
            raise ValueError(reason)
        self.model, self.optimizer, self.P = model, optimizer, processes
        self.l2, self.clip_norm, self.head = l2, clip_norm, model.head
        self.batches_for = batches_for
        self._parent: int | None = None  # in a peer: process 0's pid
        self._stack = ExitStack()

    # -- set-up and tear-down -----------------------------------------------
    def __enter__(self) -> "TensorParallel":
        """Fork the peers over shards of the model as it is now (each ``with`` afresh)."""
        self.steps = 0  # steps taken (each process counts its own)
        self._synced = 0  # steps whose results are in the model
        self._barriers = 0
        self.peers: list[int] = []  # in process 0: the peers' pids
        self._exit_codes: dict[int, int] = {}
        model, P, batches = self.model, self.P, self.batches_for(0)
        B, dtype, widths = batches.batch_size, model.dtype, [d.W.shape[1] for d in model.dense]
        self.shards = [_Shard(model, self.optimizer, P, r) for r in range(P)]
        # Exchange buffers, double-buffered by step parity: a process may be one step ahead.
        if batches.augment is not None:
            self.x = shared_array((2, B, batches.X.shape[1]), batches.X.dtype)  # the augmented batch
        self.lr = shared_array((2,), np.float64)
        self.control = shared_array((2,), np.int64)
        self.done = shared_array((P,), np.int64)  # the last step each process finished
        self.arrived = shared_array((P,), np.int64)
        self.gathered = [shared_array((2, B, w), dtype) for w in widths[:-2]]  # inputs of hidden layers 2..L
        self.partial_dA = [shared_array((2, P, B, w), dtype) for w in widths[:-2]]
        self.partial_logits = shared_array((2, P, B, widths[-1]), dtype)
        self.scalars = shared_array((2, 2, P), np.float64)  # [L2 penalty, squared grad norm] per process
        self._stack.enter_context(threadpool_limits(limits=1))  # one core per process
        for rank in range(1, P):
            pid = os.fork()
            if pid == 0:
                self._run_peer(rank)  # never returns
            self.peers.append(pid)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.end_epoch()
        finally:
            self.control[STOP] = 1
            self._join()
            self._stack.close()
        failed = [code for code in self._exit_codes.values() if code != 0]
        if failed and exc_type is None:
            raise RuntimeError(f"a tensor-parallel training process failed (exit code {failed[0]})")

    def end_epoch(self) -> None:
        """Wait for every process to finish the steps process 0 has taken, then copy the shards'
        weights, gradients and optimizer state into the model and the optimizer."""
        if self._synced == self.steps:
            return
        self._wait(lambda: min(self.done.tolist()) >= self.steps)
        self._gather()
        self._synced = self.steps

    def _join(self, timeout: float = 30.0) -> None:
        """Wait for every peer to exit (they do once STOP is set); kill one that hangs."""
        deadline = time.monotonic() + timeout
        while len(self._exit_codes) < len(self.peers) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.0005)
        for pid in set(self.peers) - set(self._exit_codes):
            os.kill(pid, 9)
            self._exit_codes[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    def _reap(self) -> None:
        """Collect the exit codes of peers that have ended."""
        for pid in self.peers:
            if pid not in self._exit_codes:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    self._exit_codes[pid] = os.waitstatus_to_exitcode(status)

    def _gather(self) -> None:
        """Copy every shard's weights, gradients and optimizer state into the full model."""
        model, optimizer = self.model, self.optimizer
        full = {**model.params(), **{f"grad:{k}": g for k, g in model.grads().items()}}
        for shard in self.shards:
            for name, p in shard.params.items():
                index = shard.index(name)
                full[name][index] = p
                full[f"grad:{name}"][index] = shard.grads[name]
                state = optimizer.state.setdefault(name, {k: np.zeros_like(full[name]) for k in optimizer.STATE})
                for k, value in shard.optimizer.state[name].items():
                    state[k][index] = value
        optimizer.t = self.shards[0].optimizer.t

    # -- the step -----------------------------------------------------------
    def begin_epoch(self, epoch: int) -> EpochBatches:
        """Let the others start on ``epoch``'s batches; returns them."""
        self.control[EPOCH] = epoch + 1
        return self.batches_for(epoch)

    def step(self, batches: EpochBatches, b: int, yb: np.ndarray, lr: float) -> tuple[float, np.ndarray]:
        """One training step over all processes, on batch ``b`` of the epoch's ``batches``
        (the next one; its targets ``yb``). Returns (loss, logits (n, C))."""
        self.steps += 1
        self.lr[self.steps % 2] = lr  # the others read it after the first exchange of the step
        result = self._step(self.shards[0], self.steps, self._batch(batches, b, len(yb), 0), yb)
        self.done[0] = self.steps
        return result

    def _batch(self, batches: EpochBatches, b: int, n: int, rank: int) -> np.ndarray:
        """Batch ``b``'s inputs xb: (n, D). Each process gathers its own copy; augmentation
        (about half an MNIST step's work) is shared out instead: each process transforms
        its slice of the rows into a shared buffer, then waits for the others'."""
        if batches.augment is None:
            return batches.batch(b)
        xb = batches.batch(b, rows=_bounds(n, self.P, rank), out=self.x[self.steps % 2])
        self._barrier(rank)
        return xb

    def _run_peer(self, rank: int) -> None:
        """In a forked peer: train on each epoch's batches as process 0 begins it, until
        told to stop, then exit."""
        code = 0
        try:
            self._parent = os.getppid()
            begun = 0  # not read from control: process 0 may have begun epoch 0 already
            while self._wait(lambda: self.control[EPOCH] != begun):
                begun = int(self.control[EPOCH])
                batches = self.batches_for(begun - 1)
                for b in range(len(batches)):
                    self.steps += 1
                    yb = batches.labels(b)
                    self._step(self.shards[rank], self.steps, self._batch(batches, b, len(yb), rank), yb)
                    self.done[rank] = self.steps
        except _Stopped:
            pass
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stderr.flush()
            os._exit(code)  # no atexit handlers, no flushing the parent's buffers

    def _step(self, shard: _Shard, step: int, xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray]:
        parity, n, A = step % 2, len(xb), xb
        L = len(shard.hidden)
        for l, (layer, drop) in enumerate(zip(shard.hidden, shard.dropout)):
            a = layer.forward(A, training=True)
            if drop is not None:
                a = drop.forward(a)
            if l < L - 1:  # all-gather: the next layer needs every unit
                buf = self.gathered[l][parity, :n]
                buf[:, shard.cols[l]] = a
                self._barrier(shard.rank)
                A = buf
        self.partial_logits[parity, shard.rank, :n] = shard.out.forward(a, training=True)
        self.scalars[parity, 0, shard.rank] = shard.penalty() if self.l2 else 0.0
        self._barrier(shard.rank)
        logits = self.partial_logits[parity, 0, :n].copy()
        for r in range(1, self.P):
            logits += self.partial_logits[parity, r, :n]
        loss, grad = self.head.loss_and_grad(logits, yb)
        da = shard.out.backward(grad)
        for l in range(L - 1, -1, -1):
            if shard.dropout[l] is not None:
                da = shard.dropout[l].backward(da)
            partial = shard.hidden[l].backward(da, need_input_grad=l > 0)
            if l > 0:  # all-reduce: dA of the layer below sums every process's part
                parts = self.partial_dA[l - 1][parity, :, :n]
                parts[shard.rank] = partial
                self._barrier(shard.rank)
                da = parts[0][:, shard.cols[l - 1]].copy()
                for r in range(1, self.P):
                    da += parts[r][:, shard.cols[l - 1]]
        if self.l2:
            loss += 0.5 * self.l2 * float(sum(self.scalars[parity, 0]))
            for layer in [*shard.hidden, shard.out]:
                layer.dW += self.l2 * layer.W
        if self.clip_norm is not None:
            self._clip(shard, parity)
        shard.optimizer.step(shard.params, shard.grads, float(self.lr[parity]))
        return loss, logits

    def _clip(self, shard: _Shard, parity: int) -> None:
        """Clip by the global norm: every process's share of Σg², summed."""
        self.scalars[parity, 1, shard.rank] = sum(float(np.vdot(g, g)) for g in shard.grads.values())
        self._barrier(shard.rank)
        norm = float(np.sqrt(sum(self.scalars[parity, 1])))
        if norm > self.clip_norm:
            for g in shard.grads.values():
                g *= self.clip_norm / norm

    # -- waiting --------------------------------------------------------------
    def _barrier(self, rank: int) -> None:
        """Wait until every process has reached this point of the step."""
        self._barriers += 1
        k = self._barriers
        self.arrived[rank] = k
        # min() of a list: a tenth of ndarray.min()'s cost, and this check is the spin loop.
        if not self._wait(lambda: min(self.arrived.tolist()) >= k):
            raise _Stopped  # process 0 failed mid-step: leave quietly

    def _wait(self, ready) -> bool:
        """Spin, then yield, then sleep until ``ready()``; False when a peer is told to stop.
        Process 0 raises if a peer died; a peer exits if process 0 is gone."""
        spins, start = 0, None
        while not ready():
            spins += 1
            if self._parent is not None and self.control[STOP]:
                return False
            if spins % LIVENESS_EVERY == 0:
                self._check_alive()
            if spins > SPINS_BEFORE_YIELD:
                start = start or time.perf_counter()
                if time.perf_counter() - start > SECONDS_BEFORE_SLEEP:
                    time.sleep(0.001)
                else:
                    os.sched_yield()
        return True

    def _check_alive(self) -> None:
        if self._parent is not None:
            if os.getppid() != self._parent:
                os._exit(1)  # process 0 died: nobody will read our work
            return
        self._reap()
        if self._exit_codes:
            code = next(iter(self._exit_codes.values()))
            raise RuntimeError(f"a tensor-parallel training process stopped mid-epoch (exit code {code})")


class _Stopped(Exception):
    """Raised in a peer waiting at a barrier when process 0 has stopped the epoch."""
