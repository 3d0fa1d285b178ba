#!/usr/bin/python3
"""Host memory against ONNX Runtime: the resident memory a model costs each engine once its session is
made and has run, and at its peak, one process per model and engine (bench/host_memory_bench.cc for
tandem, bench/host_memory_bench.js for ONNX Runtime through onnxruntime-node, one thread each).

    /usr/bin/python3 bench/host_memory_bench.py --tandem BUILD/bench/host_memory_bench \\
        --ort-modules DIR/node_modules [--markdown] [--keep DIR]

The models are made here with random weights (onnx.helper): single LSTM layers of hidden 1024 and 3072
(input as hidden, 10 steps, batch 1; 33.6 and 302 MB of float32 weights) and a MatMulInteger with a
constant 4096 x 4096 uint8 B and its zero point (16.8 MB). Each engine's numbers are its resident memory
less what its process held before loading the model (tandem: the program with its libraries; ONNX
Runtime: node with onnxruntime-node required), so node's own memory is not counted against ONNX Runtime.
"tandem, model kept" runs the same program with a Model kept beside the Session, which holds the weights
twice, as every session did before the session freed the model's copy of what its kernels packed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def lstm_model(hidden, seq=10):
    rng = np.random.default_rng(hidden)
    scale = 1.0 / np.sqrt(hidden)
    w = (rng.uniform(-scale, scale, (1, 4 * hidden, hidden))).astype(np.float32)
    r = (rng.uniform(-scale, scale, (1, 4 * hidden, hidden))).astype(np.float32)
    b = (rng.uniform(-scale, scale, (1, 8 * hidden))).astype(np.float32)
    node = helper.make_node("LSTM", ["x", "W", "R", "B"], ["y", "y_h", "y_c"], hidden_size=hidden)
    graph = helper.make_graph(
        [node], f"lstm_{hidden}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [seq, 1, hidden])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y", "y_h", "y_c")],
        [numpy_helper.from_array(a, n) for a, n in ((w, "W"), (r, "R"), (b, "B"))])
    inputs = {"x": rng.uniform(-1, 1, (seq, 1, hidden)).astype(np.float32)}
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), inputs


def matmul_integer_model(n=4096, rows=4):
    rng = np.random.default_rng(n)
    b = rng.integers(0, 256, (n, n), dtype=np.uint8)
    node = helper.make_node("MatMulInteger", ["a", "B", "a_zp", "b_zp"], ["y"])
    graph = helper.make_graph(
        [node], "matmul_integer",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [rows, n])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, None)],
        [numpy_helper.from_array(b, "B"), numpy_helper.from_array(np.array(128, np.uint8), "a_zp"),
         numpy_helper.from_array(np.array(3, np.uint8), "b_zp")])
    inputs = {"a": rng.integers(0, 256, (rows, n), dtype=np.uint8)}
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), inputs


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tandem", required=True, help="the host_memory_bench program of a tandem build")
    ap.add_argument("--ort-modules", required=True, help="node_modules holding onnxruntime-node")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--keep", help="write the models into this folder and keep them")
    args = ap.parse_args()

    scratch = args.keep or tempfile.mkdtemp(prefix="tandem_memory_")
    os.makedirs(scratch, exist_ok=True)
    env = dict(os.environ, NODE_PATH=os.path.abspath(args.ort_modules))
    makers = [("LSTM hidden 1024", lambda: lstm_model(1024)), ("LSTM hidden 3072", lambda: lstm_model(3072)),
              ("MatMulInteger 4096 x 4096", matmul_integer_model)]
    rows = []
    for k, (label, make) in enumerate(makers, 1):
        print(f"[{k}/{len(makers)}] {label}: making the model", file=sys.stderr, flush=True)
        model, inputs = make()
        path = os.path.join(scratch, f"model_{k}.onnx")
        onnx.save(model, path)
        spec = {}
        for name, a in inputs.items():
            a.tofile(os.path.join(scratch, f"model_{k}_{name}.bin"))
            spec[name] = {"dtype": str(a.dtype), "shape": list(a.shape), "file": f"model_{k}_{name}.bin"}
        spec_path = os.path.join(scratch, f"model_{k}_inputs.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        weights_mb = sum(t.ByteSize() for t in model.graph.initializer) / 1e6
        print(f"[{k}/{len(makers)}] {label}: measuring", file=sys.stderr, flush=True)
        engines = {
            "tandem": run_json([args.tandem, path]),
            "tandem, model kept": run_json([args.tandem, path, "--keep-model"]),
            "ONNX Runtime": run_json(["node", os.path.join(HERE, "host_memory_bench.js"), path, spec_path], env),
        }
        rows.append((label, weights_mb, engines))

    def mb(r, stage):
        return (r[stage] - r["start"]) / 1024.0

    header = ["model", "weights MB", "engine", "after the session MB", "after one run MB", "peak MB",
              "after one run / ORT's"]
    lines = []
    for label, weights_mb, engines in rows:
        ort_run = mb(engines["ONNX Runtime"], "run")
        for name, r in engines.items():
            lines.append([label, f"{weights_mb:.1f}", name, f"{mb(r, 'session'):.1f}", f"{mb(r, 'run'):.1f}",
                          f"{mb(r, 'peak'):.1f}", f"{mb(r, 'run') / ort_run:.2f}" if ort_run > 0 else "-"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))


if __name__ == "__main__":
    main()
