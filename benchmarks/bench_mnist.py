"""MNIST benchmark: our NumPy engine against PyTorch and scikit-learn, a matmul roofline,
and the test accuracy of the plain recipe and of the ``mnist-default`` preset.

The network everywhere is 784-512-10 ReLU, softmax cross-entropy, Adam lr 1e-3, batch 64,
on the full MNIST training set (60000 images); ours and PyTorch in float32.

What it measures
----------------
speed
    Seconds per epoch (training loop only; median of ``--epochs-speed`` epochs, each one
    printed) of
    - our engine: ``mlp_engine.Trainer`` on 2 processes (tensor-parallel, ``mlp_engine/engines/parallel.py``),
      and in one process (its BLAS on 2 threads), "ours-1proc";
    - PyTorch CPU, 2 threads, default ``torch.optim.Adam``, tensors indexed directly with a
      fresh random permutation per epoch (no DataLoader): the fair fast recipe;
    - scikit-learn ``MLPClassifier`` (float64 input, solver adam, alpha 0), one
      ``partial_fit`` call per epoch (``fit`` with ``warm_start`` would reset Adam's state).
    Our epoch times include copying the trained shards into the model after each epoch, and
    in the first epoch of a process forking the second one.
    Each implementation runs in a fresh process (in one process, PyTorch's idle threads
    slowed the epoch that followed by up to 30%), over ``--rounds`` rounds whose order
    alternates, so that load from other processes hits all alike. Ratios: ours/torch (goal <= 0.75), sklearn/ours
    (goal >= 5). It also splits one of our one-process steps into batch gather, forward,
    backward and optimizer update.
roofline
    NumPy float32 matmul GFLOP/s at the five batch-64 shapes of a training step (forward
    X@W1, A1@W2; backward dW2 = A1^T dz2, dA1 = dz2 W2^T, dW1 = X^T dz1; the first layer
    needs no input gradient), the exact FLOPs of one epoch, and the matmul floor in
    seconds per epoch: the time those matmuls alone take at the measured rates.
accuracy
    Test accuracy after ``--epochs`` epochs of (a) the plain recipe (Adam, constant lr)
    and (b) ``mlp_engine.preset("mnist-default")``; with ``--torch-accuracy``, also PyTorch's.

The last line printed holds the key figures as space-separated ``name=value`` pairs.

Run from the repository root (``make bench`` installs torch and scikit-learn, then runs it)::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_mnist.py                # everything (~1-2 min on a quiet machine)
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mnist.py --speed-only   # speed + roofline
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mnist.py --accuracy-only
    PYTHONPATH=. .venv/bin/python benchmarks/bench_mnist.py --quick        # a smoke run (~40 s)

MNIST is read from ``--mnist-dir``, else ``$MLP_MNIST_DIR``, else ``<repo>/../shared/data/mnist``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `python benchmarks/bench_mnist.py` without an install
    sys.path.insert(0, str(REPO_ROOT))

from mlp_engine import MLP, Dataset, Experiment, LayerSpec, OptimizerConfig, Trainer, evaluate, load_dataset, preset  # noqa: E402
from mlp_engine.engines.live_inputs import LiveFirstLayer, input_order  # noqa: E402

DEFAULT_MNIST_DIR = Path(os.environ.get("MLP_MNIST_DIR", REPO_ROOT.parent / "shared" / "data" / "mnist"))
HIDDEN = 512
N_CLASSES = 10
BATCH = 64
LR = 1e-3
THREADS = 2  # the machine's cores; PyTorch is pinned to this many


# --------------------------------------------------------------------------- setup


def plain_experiment(epochs: int, seed: int) -> Experiment:
    """784-512-10 ReLU, Adam lr 1e-3 at a constant rate, batch 64, float32: the plain recipe."""
    return Experiment(
        dataset="mnist", layers=(LayerSpec(HIDDEN, "relu"),), optimizer=OptimizerConfig("adam", lr=LR),
        epochs=epochs, batch_size=BATCH, seed=seed, dtype="float32",
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_times(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# --------------------------------------------------------------------------- epoch runners
# Each runner trains one epoch per call to epoch() and returns its seconds.


class TorchRunner:
    """PyTorch CPU: nn.Sequential, default Adam, a random permutation per epoch, tensors
    indexed directly (no DataLoader)."""

    def __init__(self, data: Dataset, seed: int):
        import torch  # inside: the script says clearly when torch is missing

        torch.set_num_threads(THREADS)
        torch.manual_seed(seed)
        self.torch = torch
        self.X = torch.from_numpy(np.array(data.X_train, dtype=np.float32))  # (N, 784), a writable copy
        self.y = torch.from_numpy(np.array(data.y_train, dtype=np.int64))  # (N,)
        self.X_test = torch.from_numpy(np.array(data.X_test, dtype=np.float32))
        self.y_test = np.asarray(data.y_test)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(self.X.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, N_CLASSES)
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self) -> float:
        torch, model, opt = self.torch, self.model, self.optimizer
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(self.X), generator=self.generator)
        for s in range(0, len(order), BATCH):
            idx = order[s : s + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(self.X[idx]), self.y[idx])
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    def test_accuracy(self) -> float:
        self.model.eval()
        with self.torch.no_grad():
            predicted = self.model(self.X_test).argmax(dim=1).numpy()
        return float(np.mean(predicted == self.y_test))


class SklearnRunner:
    """scikit-learn MLPClassifier in float64, one partial_fit (one epoch) per call."""

    def __init__(self, data: Dataset, seed: int):
        from sklearn.neural_network import MLPClassifier  # inside: says clearly when missing

        self.X = np.asarray(data.X_train, dtype=np.float64)  # (N, 784)
        self.y = np.asarray(data.y_train)
        self.classes = np.arange(N_CLASSES)
        self.model = MLPClassifier(
            hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam", alpha=0.0, batch_size=BATCH,
            learning_rate_init=LR, shuffle=True, random_state=seed,
        )

    def epoch(self) -> float:
        start = time.perf_counter()
        self.model.partial_fit(self.X, self.y, classes=self.classes)
        return time.perf_counter() - start


def make_runner(cls, data: Dataset, seed: int):
    """The runner, or None with a printed reason when its library is missing."""
    try:
        return cls(data, seed)
    except ImportError as exc:
        hint = "pip install torch==2.13.0" if cls is TorchRunner else "pip install scikit-learn"
        print(f"  SKIPPED {cls.__name__}: {exc} ({hint}; `make bench` installs both)", flush=True)
        return None


# --------------------------------------------------------------------------- speed


class OursRunner:
    """Our engine: the plain recipe through ``mlp_engine.Trainer`` on ``THREADS`` processes
    (tensor-parallel, one BLAS thread each)."""

    processes = THREADS

    def __init__(self, data: Dataset, seed: int):
        exp = plain_experiment(100, seed)  # an epoch budget the timing never reaches
        self.trainer = Trainer(MLP(exp.model_config(data.info())), exp.train_config(), data.X_train, data.y_train,
                               image_shape=data.image_shape, processes=self.processes)

    def epochs(self, n: int) -> list[float]:
        """Each epoch's training seconds, from one ``run()`` of ``n`` epochs: the batch loop
        and copying the trained shards into the model (the first epoch also forking the
        peer), without the per-epoch validation and layer statistics (the peers compute none)."""
        target = self.trainer.epoch + n
        history = self.trainer.run(should_stop=lambda: self.trainer.epoch >= target).history
        return [m["seconds"] for m in history[-n:]]


class OursOneProcessRunner(OursRunner):
    """Our engine in one process (its BLAS on ``THREADS`` threads)."""

    processes = 1


RUNNERS = {"ours": OursRunner, "ours-1proc": OursOneProcessRunner, "torch": TorchRunner, "sklearn": SklearnRunner}


def speed_worker(name: str, epochs: int, mnist_dir: Path, seed: int) -> None:
    """In a fresh process: time ``epochs`` epochs of one implementation, print them as JSON."""
    runner = make_runner(RUNNERS[name], load_dataset("mnist", mnist_dir=mnist_dir), seed)
    if runner is None:
        times = []
    elif isinstance(runner, OursRunner):
        times = runner.epochs(epochs)
    else:
        times = [runner.epoch() for _ in range(epochs)]
    print(json.dumps(times))


def measure_speed(epochs: int, sklearn_epochs: int, rounds: int, mnist_dir: Path, seed: int) -> dict:
    """Per-epoch seconds of ours, torch and sklearn. Each runs in a fresh process, so no
    library's idle threads or caches slow the next; the order alternates over ``rounds``
    so load from elsewhere hits all alike."""
    print(f"\n== speed: {rounds} rounds of {epochs} epochs each (sklearn {sklearn_epochs}), "
          "each implementation in its own process ==", flush=True)
    budget = {"ours": epochs, "ours-1proc": epochs, "torch": epochs, "sklearn": sklearn_epochs}
    times: dict[str, list[float]] = {name: [] for name in RUNNERS}
    for r in range(rounds):
        order = list(RUNNERS) if r % 2 == 0 else list(RUNNERS)[::-1]
        for name in order:
            if budget[name] == 0:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--speed-worker", name, "--epochs-speed", str(budget[name]),
                 "--mnist-dir", str(mnist_dir), "--seed", str(seed)],
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()
            print("\n".join(f"  {line}" for line in out[:-1]), flush=True)  # a SKIPPED note
            times[name] += json.loads(out[-1])
            print(f"  round {r + 1} {name:<10} {fmt_times(json.loads(out[-1]))}", flush=True)
    result = {name: median(values) for name, values in times.items()}
    for name, values in times.items():
        if values:
            print(f"  {name:<10} median {result[name]:.2f} s/epoch  [{fmt_times(values)}]")
    return result


def step_breakdown(data: Dataset, seed: int, steps: int = 300) -> dict:
    """Mean ms per step of our engine's parts, timed separately on a warmed-up model:
    batch gather, forward, forward+backward, optimizer update, the loop's training-accuracy count.
    The first layer sees the live inputs only, as in the Trainer."""
    exp = plain_experiment(1, seed)
    model = MLP(exp.model_config(data.info()))
    optimizer = exp.optimizer.build()
    live = input_order(data.X_train, drop_dead=True)
    with LiveFirstLayer(model, optimizer, live):
        return timed_parts(model, optimizer, np.ascontiguousarray(data.X_train[:, live]), data.y_train, seed, steps)


def timed_parts(model: MLP, optimizer, X: np.ndarray, y: np.ndarray, seed: int, steps: int) -> dict:
    params, grads = model.params(), model.grads()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    xb = np.empty((BATCH, X.shape[1]), dtype=np.float32)
    batches = [order[(i * BATCH) % (len(X) - BATCH) :][:BATCH] for i in range(steps)]
    for idx in batches[:steps // 3]:  # warm up: buffers, optimizer state, moments
        np.take(X, idx, axis=0, out=xb, mode="clip")
        model.forward_backward(xb, y[idx])
        optimizer.step(params, grads, LR)
    _, logits = model.forward_backward(xb, y[batches[0]])

    def timed(fn) -> float:
        start = time.perf_counter()
        for idx in batches:
            fn(idx)
        return (time.perf_counter() - start) / steps * 1e3

    parts = {
        "gather": timed(lambda idx: np.take(X, idx, axis=0, out=xb, mode="clip")),
        "forward": timed(lambda idx: model.forward(xb, training=True)),
        "forward+backward": timed(lambda idx: model.forward_backward(xb, y[idx])),
        "optimizer": timed(lambda idx: optimizer.step(params, grads, LR)),
        # the Trainer's running training accuracy: a second softmax over the logits
        "train metrics": timed(lambda idx: np.count_nonzero(model.head.predict(model.head.output(logits)) == y[idx])),
    }
    parts["backward"] = parts["forward+backward"] - parts["forward"]
    return parts


def report_step_breakdown(parts: dict, epoch_s: float, n_samples: int) -> None:
    """Print ms per step of each part, and what the measured epoch spends beyond them
    (Python bookkeeping of the loop; and load drift, since the parts are timed later)."""
    steps = -(-n_samples // BATCH)
    step_ms = epoch_s / steps * 1e3
    timed = parts["gather"] + parts["forward+backward"] + parts["optimizer"] + parts["train metrics"]
    parts = {**parts, "rest of the loop": step_ms - timed}
    print(f"  one step of ours in one process: {step_ms:.3f} ms (epoch median / {steps} steps); parts timed alone "
          f"(sum {timed:.3f} ms), ms:")
    for name in ("gather", "forward", "backward", "optimizer", "train metrics", "rest of the loop"):
        print(f"    {name:<17} {parts[name]:6.3f}  ({parts[name] / step_ms:4.0%})")


# --------------------------------------------------------------------------- roofline


def matmul_shapes(batch: int, d_in: int = 784, hidden: int = HIDDEN, d_out: int = N_CLASSES) -> list[tuple]:
    """(name, left shape, right shape, left transposed?, right transposed?) of one step's matmuls."""
    return [
        ("fwd   X@W1", (batch, d_in), (d_in, hidden), False, False),
        ("fwd   A1@W2", (batch, hidden), (hidden, d_out), False, False),
        ("bwd   dW2=A1^T dz2", (batch, hidden), (batch, d_out), True, False),
        ("bwd   dA1=dz2 W2^T", (batch, d_out), (hidden, d_out), False, True),
        ("bwd   dW1=X^T dz1", (batch, d_in), (batch, hidden), True, False),
    ]


def matmul_flops(a_shape, b_shape, ta: bool, tb: bool) -> int:
    m, k = a_shape[::-1] if ta else a_shape
    n = b_shape[0] if tb else b_shape[1]
    return 2 * m * k * n


def epoch_flops(n_samples: int, batch: int, d_in: int = 784) -> int:
    """Exact matmul FLOPs of one epoch, the last (partial) batch included."""
    sizes = [batch] * (n_samples // batch) + ([n_samples % batch] if n_samples % batch else [])
    return sum(matmul_flops(a, b, ta, tb) for n in sizes for _, a, b, ta, tb in matmul_shapes(n, d_in))


def time_matmul(a_shape, b_shape, ta: bool, tb: bool, reps: int = 300, repeats: int = 7) -> float:
    """Best-of-``repeats`` mean seconds of one float32 ``np.matmul(A, B, out=C)`` (views as the engine uses)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal(a_shape, dtype=np.float32)
    B = rng.standard_normal(b_shape, dtype=np.float32)
    A, B = (A.T if ta else A), (B.T if tb else B)
    C = np.empty((A.shape[0], B.shape[1]), dtype=np.float32)
    for _ in range(reps // 10):
        np.matmul(A, B, out=C)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(reps):
            np.matmul(A, B, out=C)
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def matmul_floor(n_samples: int, d_in: int, show: bool) -> float:
    """Seconds the matmuls of one epoch take at their measured rates (printing each shape's when ``show``)."""
    full, rest = divmod(n_samples, BATCH)
    floor = 0.0
    for batch, count in ((BATCH, full), (rest, 1 if rest else 0)):
        for name, a, b, ta, tb in matmul_shapes(batch, d_in):
            if not count:
                continue
            seconds = time_matmul(a, b, ta, tb)
            flops = matmul_flops(a, b, ta, tb)
            floor += seconds * count
            if batch == BATCH and show:
                print(f"  {name:<20} {flops / 1e6:7.2f} MFLOP  {seconds * 1e6:7.1f} us  "
                      f"{flops / seconds / 1e9:6.1f} GFLOP/s")
    return floor


def measure_roofline(n_samples: int, live_inputs: int) -> dict:
    """Matmul GFLOP/s at the step's shapes and the matmul floor of one epoch; also the floor
    of the epoch our Trainer runs, whose first layer sees only the ``live_inputs`` inputs."""
    print("\n== roofline: numpy float32 matmul at the batch-64 shapes ==", flush=True)
    full, rest = divmod(n_samples, BATCH)
    floor = matmul_floor(n_samples, 784, show=True)
    big = 2048
    seconds = time_matmul((big, big), (big, big), False, False, reps=5, repeats=3)
    print(f"  reference {big}x{big}: {2 * big**3 / seconds / 1e9:.0f} GFLOP/s")
    flops = epoch_flops(n_samples, BATCH)
    print(f"  one epoch: {flops / 1e9:.2f} GFLOP exactly ({full} batches of {BATCH} + one of {rest}); "
          f"matmul floor {floor:.3f} s/epoch ({flops / floor / 1e9:.0f} GFLOP/s on average)")
    live_flops, live_floor = epoch_flops(n_samples, BATCH, live_inputs), matmul_floor(n_samples, live_inputs, show=False)
    print(f"  our Trainer skips the inputs that are zero in every training image ({784 - live_inputs} of 784, "
          f"mlp_engine/engines/live_inputs.py): {live_flops / 1e9:.2f} GFLOP, matmul floor {live_floor:.3f} s/epoch")
    return {"floor": floor, "gflop": flops / 1e9}


# --------------------------------------------------------------------------- accuracy


def train_and_test(name: str, exp: Experiment, data: Dataset) -> float:
    """Train ``exp`` on data's training set; return its test accuracy."""
    model = MLP(exp.model_config(data.info()))
    start = time.perf_counter()
    history = Trainer(model, exp.train_config(), data.X_train, data.y_train, image_shape=data.image_shape,
                      processes=THREADS).run().history
    accuracy = evaluate(model, data.X_test, data.y_test)["accuracy"]
    times = [m["seconds"] for m in history]
    print(f"  {name:<8} test accuracy {accuracy:.4f}  ({exp.epochs} epochs, {time.perf_counter() - start:.0f} s; "
          f"s/epoch [{fmt_times(times)}])", flush=True)
    return accuracy


def measure_accuracy(data: Dataset, epochs: int, seed: int, with_torch: bool) -> dict:
    print(f"\n== accuracy: {epochs} epochs, seed {seed} ==", flush=True)
    default = dataclasses.replace(preset("mnist-default"), epochs=epochs, seed=seed)
    print(f"  mnist-default: optimizer {dataclasses.asdict(default.optimizer)}, "
          f"schedule {dataclasses.asdict(default.schedule)}, dropout {default.dropout}, l2 {default.l2}")
    result = {
        "plain": train_and_test("plain", plain_experiment(epochs, seed), data),
        "default": train_and_test("default", default, data),
    }
    if with_torch:
        runner = make_runner(TorchRunner, data, seed)
        if runner is not None:
            times = [runner.epoch() for _ in range(epochs)]
            result["torch"] = runner.test_accuracy()
            print(f"  {'torch':<8} test accuracy {result['torch']:.4f}  ({epochs} epochs, {sum(times):.0f} s; "
                  f"s/epoch [{fmt_times(times)}])", flush=True)
    return result


# --------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--speed-only", action="store_true", help="speed and roofline only")
    parts.add_argument("--accuracy-only", action="store_true", help="accuracy only")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 speed epochs (sklearn 1), 2 accuracy epochs")
    parser.add_argument("--epochs-speed", type=int, default=3, help="timed epochs of ours and torch (default 3)")
    parser.add_argument("--sklearn-epochs", type=int, default=1, help="timed epochs of sklearn per round (default 1; 0: skip)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs for the accuracy runs (default 10)")
    parser.add_argument("--torch-accuracy", action="store_true", help="also train PyTorch for --epochs, report its accuracy")
    parser.add_argument("--rounds", type=int, default=4, help="speed rounds, alternating the order (default 4)")
    parser.add_argument("--speed-worker", choices=list(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST_DIR)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs_speed, args.sklearn_epochs, args.epochs, args.rounds = 2, 1, 2, 2
    if args.epochs_speed < 1 or args.epochs < 1 or args.sklearn_epochs < 0:
        parser.error("--epochs-speed and --epochs must be >= 1, --sklearn-epochs >= 0")
    return args


def key_figures(speed: dict | None, roof: dict | None, acc: dict | None, epochs: int) -> str:
    """The final line: space-separated name=value pairs of what was measured."""
    figures: dict[str, str] = {}
    if speed:
        ours = speed["ours"]
        figures["epoch_s"] = f"{ours:.2f}"
        figures["one_process_epoch_s"] = f"{speed['ours-1proc']:.2f}"
        if not np.isnan(speed["torch"]):
            figures["torch_epoch_s"] = f"{speed['torch']:.2f}"
            figures["ratio_vs_torch"] = f"{ours / speed['torch']:.2f}"
        if not np.isnan(speed["sklearn"]):
            figures["sklearn_epoch_s"] = f"{speed['sklearn']:.2f}"
            figures["ratio_vs_sklearn"] = f"{speed['sklearn'] / ours:.2f}"
    if roof:
        figures["roofline_s"] = f"{roof['floor']:.2f}"
        if speed:
            figures["ratio_vs_roofline"] = f"{speed['ours'] / roof['floor']:.2f}"
    if acc:
        figures["accuracy_epochs"] = str(epochs)
        figures["plain_test_accuracy"] = f"{acc['plain']:.4f}"
        figures["default_test_accuracy"] = f"{acc['default']:.4f}"
        if "torch" in acc:
            figures["torch_test_accuracy"] = f"{acc['torch']:.4f}"
    return " ".join(f"{k}={v}" for k, v in figures.items())


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.speed_worker:
        speed_worker(args.speed_worker, args.epochs_speed, args.mnist_dir, args.seed)
        return
    data = load_dataset("mnist", mnist_dir=args.mnist_dir)
    print(f"MNIST: {data.X_train.shape[0]} train, {data.X_test.shape[0]} test; numpy {np.__version__}; "
          f"net 784-{HIDDEN}-{N_CLASSES} ReLU, Adam lr {LR}, batch {BATCH}, float32", flush=True)
    speed = roof = acc = None
    if not args.accuracy_only:
        speed = measure_speed(args.epochs_speed, args.sklearn_epochs, args.rounds, args.mnist_dir, args.seed)
        print(f"  ours on {THREADS} processes / ours on one = {speed['ours'] / speed['ours-1proc']:.2f}")
        if not np.isnan(speed["torch"]):
            print(f"  ours/torch = {speed['ours'] / speed['torch']:.2f} (goal <= 0.75)")
        if not np.isnan(speed["sklearn"]):
            print(f"  sklearn/ours = {speed['sklearn'] / speed['ours']:.2f} (goal >= 5)")
        report_step_breakdown(step_breakdown(data, args.seed), speed["ours-1proc"], len(data.X_train))
        roof = measure_roofline(len(data.X_train), len(input_order(data.X_train, drop_dead=True)))
        print(f"  ours / matmul floor = {speed['ours'] / roof['floor']:.2f}")
    if not args.speed_only:
        acc = measure_accuracy(data, args.epochs, args.seed, args.torch_accuracy)
    print()
    print(key_figures(speed, roof, acc, args.epochs), flush=True)


if __name__ == "__main__":
    main()
