#!/usr/bin/python3
"""Whole models against ONNX Runtime: each model of a test-case folder (model.onnx and
test_data_set_0/input_K.pb) timed on its recorded inputs by tandem (`tandem bench --input ... --json`) and
by ONNX Runtime's CPU provider through onnxruntime-node (bench/model_bench.js), with the same number of
threads, interleaved round by round, so a busy machine slows both alike.

    /usr/bin/python3 bench/model_bench.py --tandem BUILD/tools/tandem --ort-modules DIR/node_modules \\
        [--threads 1,2] [--rounds 5] [--runs 500] [--tandem-before OLD/tools/tandem] [--markdown] [CASE_DIR ...]

Without CASE_DIRs: the bundled Silero VAD exports (one 32 ms step of a stream, batch 1) and the PyTorch
exports of tests/data/pytorch (batch 2, 5 steps). onnxruntime-node:
`ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix DIR onnxruntime-node@1.30.0`.

--tandem-before adds an older tandem binary as one more interleaved engine, so a change is measured
against its parent under the same load.

Reported per model and thread count: the median over rounds of each round's median microseconds per run,
and tandem/ORT (below 1: tandem is faster); at the end the geometric mean of the ratios per thread count.
ORT's times include the call from JavaScript into its native binding; tandem's are Session::run's own. The
first row, a one-float Identity model, shows what a call costs each engine by itself: for models of a few
microseconds, that floor is most of ORT's time, and the ratio says more about the binding than the kernels,
so the last column compares with ORT's time less that floor (for models above twice the floor): a bound
in ORT's favour, since part of the floor is work ORT would do in C++ too.
"""

import argparse
import glob
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

import onnx
from onnx import numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class EngineFailed(Exception):
    """An engine could not run a model (ONNX Runtime has no float64 LSTM, say): reported, not timed."""


def default_cases():
    cases = [os.path.join(REPO, "models/silero_vad", d) for d in ("silero_vad_16k_op15", "silero_vad_op18_ifless")]
    cases += sorted(os.path.dirname(p) for p in glob.glob(os.path.join(REPO, "tests/data/pytorch/*/model.onnx")))
    return cases


def case_inputs(case, scratch):
    """The recorded inputs: (name, .pb path) pairs for tandem and an inputs.json of raw files for ORT."""
    model = onnx.load(os.path.join(case, "model.onnx"), load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}
    declared = [i.name for i in model.graph.input if i.name not in initializers]
    pairs, spec = [], {}
    for k, pb in enumerate(sorted(glob.glob(os.path.join(case, "test_data_set_0", "input_*.pb")),
                                  key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))):
        t = onnx.TensorProto()
        with open(pb, "rb") as f:
            t.ParseFromString(f.read())
        name = t.name or declared[k]
        array = numpy_helper.to_array(t)
        raw = os.path.join(scratch, f"{os.path.basename(case)}.{k}.bin")
        array.tofile(raw)
        spec[name] = {"dtype": str(array.dtype), "shape": list(array.shape), "file": raw}
        pairs.append((name, pb))
    spec_path = os.path.join(scratch, f"{os.path.basename(case)}.inputs.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    return pairs, spec_path


def time_tandem(tandem, case, pairs, threads, runs):
    argv = [tandem, "bench", os.path.join(case, "model.onnx"), "--threads", str(threads), "--runs", str(runs),
            "--warmup", str(max(10, runs // 10)), "--json"]
    for name, pb in pairs:
        argv += ["--input", f"{name}={pb}"]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise EngineFailed(done.stderr.strip() or "failed")
    return json.loads(done.stdout)["median_us"]


def time_ort(node_env, case, spec_path, threads, runs):
    argv = ["node", os.path.join(REPO, "bench", "model_bench.js"), os.path.join(case, "model.onnx"), spec_path,
            str(threads), str(max(10, runs // 10)), str(runs)]
    done = subprocess.run(argv, capture_output=True, text=True, env=node_env)
    if done.returncode != 0:
        raise EngineFailed(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    return statistics.median(float(x) for x in done.stdout.split()[1:])


def identity_case(scratch):
    """A one-float Identity model and its input: what a call through onnxruntime-node costs by itself."""
    from onnx import helper
    case = os.path.join(scratch, "identity")
    os.makedirs(os.path.join(case, "test_data_set_0"))
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(case, "model.onnx"))
    t = helper.make_tensor("x", onnx.TensorProto.FLOAT, [1], [1.0])
    with open(os.path.join(case, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(t.SerializeToString())
    return case


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tandem", required=True, help="the tandem CLI binary (BUILD/tools/tandem)")
    ap.add_argument("--ort-modules", required=True, help="node_modules folder holding onnxruntime-node")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=500, help="timed runs per engine, model and round")
    ap.add_argument("--tandem-before", help="an older tandem binary, timed as one more engine, 'before'")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    cases = args.cases or default_cases()
    threads = [int(t) for t in args.threads.split(",")]
    node_env = dict(os.environ, NODE_PATH=os.path.abspath(args.ort_modules))

    with tempfile.TemporaryDirectory() as scratch:
        floor = identity_case(scratch)
        cases = [floor] + cases
        inputs = {case: case_inputs(case, scratch) for case in cases}
        times = {}  # (case, threads, engine) -> round medians
        failed = {}  # (case, engine) -> why it could not run
        steps = args.rounds * len(cases) * len(threads)
        done = 0
        for r in range(args.rounds):
            for case in cases:
                pairs, spec = inputs[case]
                for t in threads:
                    order = ["tandem", "ort"] + (["before"] if args.tandem_before else [])
                    shift = (r + done) % len(order)
                    for engine in order[shift:] + order[:shift]:
                        if (case, engine) in failed:
                            continue
                        try:
                            if engine == "ort":
                                us = time_ort(node_env, case, spec, t, args.runs)
                            else:
                                binary = args.tandem if engine == "tandem" else args.tandem_before
                                us = time_tandem(binary, case, pairs, t, args.runs)
                        except EngineFailed as e:
                            failed[(case, engine)] = str(e)[:160]
                            continue
                        times.setdefault((case, t, engine), []).append(us)
                    done += 1
                    print(f"\rmodel_bench: {done}/{steps} (round {r + 1}, {os.path.basename(case)}, "
                          f"{t} thread{'s' if t > 1 else ''})", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)

    def shown(case, t, engine):
        if (case, engine) in failed:
            return None, "cannot run"
        us = statistics.median(times[(case, t, engine)])
        return us, f"{us:.1f}"

    rows, ratios, net_ratios = [], {t: [] for t in threads}, {t: [] for t in threads}
    for case in cases:
        for t in threads:
            (ours, ours_text), (ort, ort_text) = shown(case, t, "tandem"), shown(case, t, "ort")
            ort_floor = shown(floor, t, "ort")[0]
            ratio, net = "-", "-"
            if ours and ort and case != floor:
                ratios[t].append(ours / ort)
                ratio = f"{ours / ort:.2f}"
                if ort_floor and ort > 2 * ort_floor:  # else the difference is mostly noise
                    net_ratios[t].append(ours / (ort - ort_floor))
                    net = f"{ours / (ort - ort_floor):.2f}"
            name = "(a one-float Identity: each engine's cost of a call)" if case == floor else os.path.relpath(case, REPO)
            row = [name, t, ours_text, ort_text, ratio, net]
            if args.tandem_before:
                before, before_text = shown(case, t, "before")
                row += [before_text, f"{ours / before:.2f}" if ours and before else "-"]
            rows.append(tuple(row))

    def geomean(xs):
        return math.exp(statistics.mean(math.log(x) for x in xs))

    geomeans = {t: geomean(ratios[t]) for t in threads if ratios[t]}
    net_geomeans = {t: geomean(net_ratios[t]) for t in threads if net_ratios[t]}
    if args.markdown:
        before_columns = " before us | tandem/before |" if args.tandem_before else ""
        print("| model | threads | tandem us | ORT us | tandem/ORT | tandem/(ORT - its Identity floor) |" +
              before_columns)
        print("|---|---|---|---|---|---|" + ("---|---|" if args.tandem_before else ""))
        for row in rows:
            print("| " + " | ".join(str(x) for x in row) + " |")
        print()
        for t, g in geomeans.items():
            print(f"Geometric mean tandem/ORT, {t} thread{'s' if t > 1 else ''}: {g:.2f}; against ORT less its "
                  f"floor (models above twice the floor): {net_geomeans.get(t, float('nan')):.2f}  ")
    else:
        for case, t, ours, ort, ratio, net, *before in rows:
            print(f"{case:50s} {t} thr  tandem us {ours:>10s}  ORT us {ort:>10s}  ratio {ratio}  less floor {net}" +
                  (f"  before us {before[0]:>10s}  tandem/before {before[1]}" if before else ""))
        for t, g in geomeans.items():
            print(f"geomean tandem/ORT {t} thr: {g:.2f}; less ORT's floor: {net_geomeans.get(t, float('nan')):.2f}")
    for (case, engine), why in sorted(failed.items()):
        print(f"\n{'tandem' if engine == 'tandem' else 'ONNX Runtime'} cannot run {os.path.relpath(case, REPO)}: {why}")


if __name__ == "__main__":
    main()
