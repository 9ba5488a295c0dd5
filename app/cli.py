"""``mlp-playground``: train and use models on a running MLP Playground server.

    mlp-playground train --dataset xor --layers 4:tanh --epochs 200 --lr 0.05 --follow
    mlp-playground train --preset mnist-default --epochs 3 --follow
    mlp-playground runs | watch RUN_ID | pause RUN_ID | resume RUN_ID | stop RUN_ID
    mlp-playground models | predict MODEL_ID --inputs '[[0,1]]' | presets

Exit codes: 0 success (a followed run completed); 1 a run failed or stopped, or the
server refused a request; 2 invalid input (a flag, or a spec the server rejects);
130 interrupted (Ctrl-C detaches from a run; it keeps training on the server).
The server validates specs; this module only parses its own flags.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

from .client import DEFAULT_URL, Client, ClientError

PROG = "mlp-playground"


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line on stderr, exit status 2 (argparse would print the whole usage)."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class UsageError(Exception):
    """Invalid input found after parsing (exit status 2)."""


# -- flag types ---------------------------------------------------------------
def layers_arg(text: str) -> list[dict]:
    """``"4:tanh,8"`` -> ``[{"units": 4, "activation": "tanh"}, {"units": 8}]``."""
    layers = []
    for item in text.split(","):
        units, _, activation = item.strip().partition(":")
        if not units.isdigit() or (_ and not activation):
            raise argparse.ArgumentTypeError(f"layer {item!r} is not UNITS[:ACTIVATION], e.g. 4:tanh,8:relu")
        layers.append({"units": int(units), **({"activation": activation} if activation else {})})
    return layers


def param_arg(text: str) -> tuple[str, object]:
    """``"noise=0.1"`` -> ``("noise", 0.1)``; the value is JSON when it parses, else a string."""
    key, eq, value = text.partition("=")
    if not key or not eq:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE, e.g. n_samples=400")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def inputs_arg(text: str) -> list[list[float]]:
    """JSON feature rows, ``[[0,1],[1,1]]``; a single row ``[0,1]`` is accepted too."""
    try:
        rows = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not JSON; give rows like '[[0,1],[1,1]]'") from None
    if isinstance(rows, list) and rows and not isinstance(rows[0], list):
        rows = [rows]
    return rows


def file_arg(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path!r}: {exc.strerror}") from None


# -- formatting ---------------------------------------------------------------
def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_metrics(data: dict, prefix: str = "") -> str:
    """``loss 0.1234  acc 0.950`` (classification) or ``loss 0.1234  mse 0.0100  r2 0.910``."""
    parts = [f"loss {data[prefix + 'loss']:.4f}"] if prefix + "loss" in data else []
    for key, label, fmt in (("accuracy", "acc", ".3f"), ("mse", "mse", ".4f"), ("r2", "r2", ".3f")):
        if data.get(prefix + key) is not None:
            parts.append(f"{label} {data[prefix + key]:{fmt}}")
    return "  ".join(parts)


def fmt_progress(data: dict, epochs: int) -> str:
    rate = data.get("samples_per_second") or 0.0
    return (f"epoch {data['epoch']}/{epochs}  batch {data['batch']}/{data['batches']}  "
            f"loss {data['loss']:.4f}  {rate:,.0f} samples/s  ETA {fmt_duration(data.get('eta_seconds'))}")


def fmt_epoch(data: dict, epochs: int) -> str:
    line = f"epoch {data['epoch']}/{epochs}  train {fmt_metrics(data, 'train_')}"
    if "val_loss" in data:
        line += f"  val {fmt_metrics(data, 'val_')}"
    return line + f"  lr {data['lr']:.3g}  {data['seconds']:.2f}s"


def fmt_status(data: dict) -> str:
    position = f" (position {data['position']} in the queue)" if data.get("position") else ""
    line = f"status: {data['status']}{position}"
    if data["status"] == "interrupted":  # the stream stays open: a resume goes on in it
        line += f": {data.get('message') or 'the server stopped'}; `{PROG} resume RUN` continues from its checkpoint"
    return line


def fmt_done(data: dict) -> str:
    line = f"{data['status']} after {data['epochs_done']} epochs"
    if data.get("stop_reason") not in (None, "completed", data["status"]):
        line += f" ({data['stop_reason']})"
    if data.get("model_id"):
        line += f"; model {data['model_id']}"
    if data.get("test_metrics"):
        line += f"; test {fmt_metrics(data['test_metrics'])}"
    return line


class LiveLine:
    """Prints lines; on a terminal, progress rewrites one line in place with ``\\r``."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self.pending = False  # a progress line is on screen without its newline

    def progress(self, text: str) -> None:
        if self.tty:
            self.out.write(f"\r\x1b[K{text}")
            self.out.flush()
            self.pending = True
        else:
            self.line(text)

    def line(self, text: str, out=None) -> None:
        if self.pending:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.pending = False
        print(text, file=out or self.out, flush=True)


def follow(client: Client, run_id: str, epochs: int) -> int:
    """Print a run's events until it ends; the exit code for its outcome."""
    live = LiveLine()
    try:
        for event in client.events(run_id):
            kind, data = event["event"], event["data"]
            if kind == "progress":
                live.progress(fmt_progress(data, epochs))
            elif kind == "epoch":
                live.line(fmt_epoch(data, epochs))
            elif kind == "status":
                live.line(fmt_status(data))
            elif kind == "done":
                live.line(fmt_done(data))
                return 0 if data["status"] == "completed" else 1
            elif kind == "error":
                live.line(f"failed: {data['message']}", out=sys.stderr)
                return 1
    except KeyboardInterrupt:
        live.line(f"detached from run {run_id}; it keeps going on the server "
                  f"(`{PROG} watch {run_id}` to follow it again, `{PROG} stop {run_id}` to stop it)", out=sys.stderr)
        return 130
    live.line(f"the event stream of run {run_id} ended before the run did", out=sys.stderr)
    return 1


# -- commands -----------------------------------------------------------------
def build_spec(args: argparse.Namespace, client: Client) -> dict:
    """The preset's spec (if any) with the given flags on top."""
    spec = {}
    if args.preset:
        presets = {p["name"]: p["spec"] for p in client.presets()}
        if args.preset not in presets:
            raise UsageError(f"unknown preset {args.preset!r}: choose one of {', '.join(presets)}")
        spec = json.loads(json.dumps(presets[args.preset]))  # a deep copy
    for key in ("dataset", "layers", "epochs", "batch_size", "dropout", "l2", "validation_split", "seed"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    if args.param:
        spec["dataset_params"] = {**spec.get("dataset_params", {}), **dict(args.param)}
    for key, fields in (("optimizer", {"name": args.optimizer, "lr": args.lr}), ("schedule", {"name": args.schedule})):
        fields = {k: v for k, v in fields.items() if v is not None}
        if fields:
            spec[key] = {**spec.get(key, {}), **fields}
    return spec


def cmd_train(client: Client, args) -> int:
    spec = build_spec(args, client)
    try:
        run = client.create_run(spec)
    except ClientError as exc:
        if exc.status_code != 422:
            raise
        raise UsageError(f"the server rejected the run: {exc.detail}") from None
    if not args.follow:
        print(run["id"])
        return 0
    print(f"run {run['id']}: {run['dataset']}, {run['epochs_total']} epochs", flush=True)
    return follow(client, run["id"], run["epochs_total"])


def cmd_watch(client: Client, args) -> int:
    run = client.run(args.run_id)
    print(f"run {run['id']}: {run['dataset']}, {run['epochs_total']} epochs, {run['status']}", flush=True)
    return follow(client, run["id"], run["epochs_total"])


def cmd_control(client: Client, args) -> int:
    run = getattr(client, args.command)(args.run_id)
    print(f"{args.command}: sent to run {run['id']} (status: {run['status']})")
    return 0


def cmd_runs(client: Client, args) -> int:
    page = client.runs(args.limit, args.offset)
    rows = [(r["id"], r["status"], r["dataset"], f"{r['epochs_done']}/{r['epochs_total']}",
             r["model_id"] or "-", fmt_metrics(r["test_metrics"] or {})) for r in page["runs"]]
    print_table(("RUN", "STATUS", "DATASET", "EPOCHS", "MODEL", "TEST"), rows)
    print(f"{len(rows)} of {page['total']} runs")
    return 0


def cmd_models(client: Client, args) -> int:
    rows = [(m["id"], m["name"], m["source"], f"{m['n_params']:,}", fmt_metrics(m["metrics"].get("test") or {}))
            for m in client.models(args.dataset)]
    print_table(("MODEL", "NAME", "SOURCE", "PARAMS", "TEST"), rows)
    return 0


def cmd_predict(client: Client, args) -> int:
    if args.image is not None:
        result = client.predict_image(args.model_id, args.image)
        rows = ["image"]
    else:
        result = client.predict(args.model_id, args.inputs)
        rows = [json.dumps(row) for row in args.inputs]
    labels = result.get("labels") or [None] * len(result["predictions"])
    probs = result.get("probabilities") or [None] * len(result["predictions"])
    for row, pred, label, p in zip(rows, result["predictions"], labels, probs):
        shown = f"{label} (class {pred})" if label is not None and str(label) != str(pred) else f"{pred}"
        confidence = f"  p={max(p):.3f}" if p else ""
        print(f"{row} -> {shown}{confidence}")
    return 0


def cmd_presets(client: Client, args) -> int:
    print_table(("PRESET", "DESCRIPTION"), [(p["name"], p["description"]) for p in client.presets()])
    return 0


def print_table(header: tuple[str, ...], rows: list[tuple]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


# -- the parser ---------------------------------------------------------------
def build_parser() -> Parser:
    common = Parser(add_help=False)
    common.add_argument("--url", default=DEFAULT_URL, help=f"the server (default {DEFAULT_URL})")
    parser = Parser(prog=PROG, description="Train and use MLPs on an MLP Playground server.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train = sub.add_parser("train", parents=[common], help="start a training run")
    train.set_defaults(func=cmd_train)
    train.add_argument("--preset", help="start from a preset's spec (see `presets`); flags override it")
    train.add_argument("--dataset")
    train.add_argument("--layers", type=layers_arg, help="hidden layers, e.g. 4:tanh,8:relu")
    train.add_argument("--param", type=param_arg, action="append", metavar="KEY=VALUE",
                       help="a dataset parameter, e.g. noise=0.1 (repeatable)")
    for flag, type_ in (("--epochs", int), ("--batch-size", int), ("--lr", float), ("--dropout", float),
                        ("--l2", float), ("--validation-split", float), ("--seed", int)):
        train.add_argument(flag, type=type_)
    train.add_argument("--optimizer", help="e.g. sgd, momentum, adam")
    train.add_argument("--schedule", help="e.g. constant, cosine")
    train.add_argument("--follow", "-f", action="store_true", help="print live progress until the run ends")

    watch = sub.add_parser("watch", parents=[common], help="follow a run's progress")
    watch.set_defaults(func=cmd_watch)
    watch.add_argument("run_id")
    for name in ("pause", "resume", "stop"):
        control = sub.add_parser(name, parents=[common], help=f"{name} a run")
        control.set_defaults(func=cmd_control)
        control.add_argument("run_id")

    runs = sub.add_parser("runs", parents=[common], help="list recent runs")
    runs.set_defaults(func=cmd_runs)
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--offset", type=int, default=0)

    models = sub.add_parser("models", parents=[common], help="list models")
    models.set_defaults(func=cmd_models)
    models.add_argument("--dataset")

    predict = sub.add_parser("predict", parents=[common], help="predict with a model")
    predict.set_defaults(func=cmd_predict)
    predict.add_argument("model_id")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--inputs", type=inputs_arg, help="JSON feature rows, e.g. '[[0,1],[1,1]]'")
    source.add_argument("--image", type=file_arg, metavar="FILE", help="a PNG/JPEG digit (MNIST models)")

    presets = sub.add_parser("presets", parents=[common], help="list presets")
    presets.set_defaults(func=cmd_presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a bad flag (already reported)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with Client(args.url) as client:
            return args.func(client, args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"{PROG}: error: {exc.detail}", file=sys.stderr)
        return 2 if exc.status_code == 422 else 1
    except httpx.TransportError as exc:
        print(f"{PROG}: error: cannot reach the server at {args.url} ({exc}); start it with "
              "`uvicorn app.main:app` or pass --url", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
