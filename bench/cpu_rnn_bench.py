#!/usr/bin/python3
"""CPU RNN kernels against their peers: single-layer LSTM and GRU models timed, interleaved in one run, on
tandem (its default kernels: the fast path at small batches), tandem's reference twin
(TANDEM_RNN_KERNEL=reference), ONNX Runtime's CPU provider through onnxruntime-node, and PyTorch; all with
the same number of threads.

    /usr/bin/python3 bench/cpu_rnn_bench.py --tandem BUILD/bench/cpu_rnn_bench \\
        --ort-modules DIR/node_modules [--threads 1,2] [--rounds 5] [--quick] [--markdown]
        [--bidirectional] [--shapes "64,64,100,1 256,256,100,64"] [--tandem-before OTHER/cpu_rnn_bench]

onnxruntime-node: `ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix DIR onnxruntime-node@1.30.0` (the
variable skips a post-install download of GPU binaries). PyTorch must see libopenblas0-openmp to be a fair
peer (shared/toolchain.md).

Each engine keeps its models loaded (tandem and ONNX Runtime in server processes: bench/cpu_rnn_bench.cc
and bench/cpu_rnn_bench.js; PyTorch here), and each round times a batch of runs on every engine in turn, in
an order that rotates from round to round, so a busy machine slows them alike. Reported: the median
microseconds per run over all rounds; ratios tandem/peer (below 1: tandem is faster); GFLOP/s counts the
input and recurrent products, 2 * seq * batch * gates * hidden * (input + hidden) per direction.
--tandem-before adds a second tandem binary (an older build) as one more interleaved engine, "before", so a
change is measured against its parent in the same run.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"))
from make_bench_models import export_single_rnn  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINES = ["tandem", "reference", "ort", "pytorch"]

# (input, hidden, seq, batch); the first is all call overhead.
SHAPES = [(1, 1, 1, 1), (64, 64, 100, 1), (256, 64, 100, 1), (64, 256, 100, 1), (256, 256, 100, 1),
          (1024, 1024, 100, 1), (256, 256, 1, 1), (256, 256, 10, 1), (64, 256, 100, 64), (256, 256, 100, 64)]
QUICK = [(1, 1, 1, 1), (64, 64, 100, 1), (256, 256, 100, 1), (256, 256, 1, 1), (256, 256, 100, 64)]


class Server:
    """A server process speaking the line protocol of bench/cpu_rnn_bench.cc and .js."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1, env=env)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer or answer.startswith("error"):
            raise RuntimeError(f"{self.proc.args[0]}: '{line}' -> {answer or 'no answer'}")
        return answer

    def times(self, line):
        return [float(v) for v in self.ask(line).split()[1:]]

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=30)


def time_pytorch(model, x, runs):
    out = []
    with torch.inference_mode():
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            out.append((time.perf_counter() - t0) * 1e6)
    return out


def gflops(kind, n_in, hidden, seq, batch, us):
    gates = 4 if kind == "lstm" else 3
    return 2.0 * seq * batch * gates * hidden * (n_in + hidden) / (us * 1e3)


def conditions(args):
    def git(*a):
        return subprocess.run(["git", "-C", REPO, *a], capture_output=True, text=True).stdout.strip()

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    with open(os.path.join(args.ort_modules, "onnxruntime-node", "package.json")) as f:
        ort_version = json.load(f)["version"]
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return {"date": datetime.date.today().isoformat(), "commit": git("rev-parse", "--short", "HEAD") + dirty,
            "cpu": f"{cpu}, {os.cpu_count()} logical CPUs", "torch": torch.__version__,
            "onnxruntime-node": ort_version, "load": os.getloadavg()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tandem", default=os.path.join(REPO, "build", "bench", "cpu_rnn_bench"))
    ap.add_argument("--ort-modules", default=os.environ.get("ORT_NODE_MODULES", "node_modules"),
                    help="the node_modules folder holding onnxruntime-node")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch-ms", type=float, default=150.0, help="time per engine per round")
    ap.add_argument("--quick", action="store_true", help="five shapes instead of ten")
    ap.add_argument("--kinds", default="lstm,gru")
    ap.add_argument("--bidirectional", action="store_true", help="bidirectional layers")
    ap.add_argument("--shapes", help="'input,hidden,seq,batch ...' instead of the built-in list")
    ap.add_argument("--tandem-before", help="an older cpu_rnn_bench, timed as the engine 'before'")
    ap.add_argument("--p10", action="store_true",
                    help="also the 10th percentile of tandem (and before): on a busy machine, multi-threaded "
                         "runs split into those whose threads all got a core and those that waited")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    shapes = QUICK if args.quick else SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes.split()]
    engines = ENGINES + (["before"] if args.tandem_before else [])
    dirs = 2 if args.bidirectional else 1
    cases = [(k, *s) for k in args.kinds.split(",") for s in shapes]

    cond = conditions(args)
    print("# " + ", ".join(f"{k} {v}" for k, v in cond.items()), flush=True)
    env = dict(os.environ, NODE_PATH=os.path.abspath(args.ort_modules))
    tandem = Server([args.tandem])
    ort = Server(["node", os.path.join(REPO, "bench", "cpu_rnn_bench.js")], env=env)
    before = Server([args.tandem_before]) if args.tandem_before else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for threads in threads_list:
            for kind, n_in, hidden, seq, batch in cases:
                name = f"{kind}_{n_in}_{hidden}_{seq}_{batch}_d{dirs}_t{threads}"
                path = os.path.join(tmp, name + ".onnx")
                model = export_single_rnn(path, kind, n_in, hidden, seq, batch, bidirectional=dirs == 2)
                x = torch.randn(seq, batch, n_in)
                tandem.ask(f"load {name} {path} {threads}")
                if before:
                    before.ask(f"load {name} {path} {threads}")
                ort.ask(f"load {name} {path} {threads}")
                torch.set_num_threads(threads)

                def measure(engine, runs):
                    if engine == "pytorch":
                        return time_pytorch(model, x, runs)
                    if engine == "before":
                        return before.times(f"time {name} fast {runs}")
                    server = ort if engine == "ort" else tandem
                    return server.times(f"time {name} {'fast' if engine == 'tandem' else engine} {runs}")

                runs = {}
                for e in engines:  # warm-up, and how many runs fill a batch
                    warm = measure(e, 2)
                    runs[e] = max(1, min(200, int(args.batch_ms * 1e3 / max(min(warm), 1.0))))
                samples = {e: [] for e in engines}
                for r in range(args.rounds):
                    for i in range(len(engines)):
                        e = engines[(i + r) % len(engines)]
                        samples[e] += measure(e, runs[e])
                        time.sleep(0.02)  # let the other engines' spinning threads go idle
                med = {e: statistics.median(samples[e]) for e in engines}
                if args.p10:
                    for e in ("tandem", "before"):
                        if e in samples:
                            med[e + "_p10"] = statistics.quantiles(samples[e], n=10)[0]
                rows.append((kind, n_in, hidden, seq, batch, threads, med))
                tandem.ask(f"drop {name}")
                if before:
                    before.ask(f"drop {name}")
                ort.ask(f"drop {name}")
                print_row(rows[-1], args.markdown, header=len(rows) == 1, dirs=dirs)
    tandem.close()
    ort.close()
    if before:
        before.close()
    print("# load at the end: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


def print_row(row, markdown, header, dirs=1):
    kind, n_in, hidden, seq, batch, threads, med = row
    has_before = "before" in med
    cols = ["model (input, hidden, seq, batch)", "threads", "tandem µs", "reference µs", "ORT µs",
            "PyTorch µs", "tandem/ORT", "tandem/PyTorch", "tandem/reference", "tandem GFLOP/s", "ORT GFLOP/s"]
    if has_before:
        cols += ["before µs", "tandem/before"]
    vals = [f"{'Bi' if dirs == 2 else ''}{kind.upper()} ({n_in}, {hidden}, {seq}, {batch})", str(threads)]
    vals += [f"{med[e]:.0f}" if med[e] >= 100 else f"{med[e]:.1f}" for e in ENGINES]
    vals += [f"{med['tandem'] / med[p]:.2f}" for p in ("ort", "pytorch", "reference")]
    vals += [f"{dirs * gflops(kind, n_in, hidden, seq, batch, med[e]):.1f}" for e in ("tandem", "ort")]
    if has_before:
        b = med["before"]
        vals += [f"{b:.0f}" if b >= 100 else f"{b:.1f}", f"{med['tandem'] / b:.2f}"]
    if "tandem_p10" in med:
        cols += ["tandem p10 µs"] + (["before p10 µs", "p10 tandem/before"] if has_before else [])
        vals += [f"{med['tandem_p10']:.0f}"]
        if has_before:
            vals += [f"{med['before_p10']:.0f}", f"{med['tandem_p10'] / med['before_p10']:.2f}"]
    if markdown:
        if header:
            print("| " + " | ".join(cols) + " |")
            print("|" + "---|" * len(cols))
        print("| " + " | ".join(vals) + " |", flush=True)
    else:
        if header:
            print("  ".join(cols))
        print("  ".join(vals), flush=True)


if __name__ == "__main__":
    main()
