#!/usr/bin/env python3
"""PyTorch+cuDNN side of the GPU RNN benchmark, and the comparison table.

Reads gpu_rnn_bench's output (a file), times torch.nn.LSTM / GRU (single layer, float32, TF32 off so both
sides compute in plain FP32) on the same shapes with CUDA events, and prints one table with ratios
tandem / cuDNN (below 1: tandem is faster). Run with whatever python3 has a CUDA build of torch.
"""
import argparse
import statistics
import sys

import torch


def time_cudnn(cell, inp, hidden, seq, batch, reps):
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    mod = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(inp, hidden, num_layers=1).cuda().eval()
    x = torch.randn(seq, batch, inp, device="cuda")
    times = []
    with torch.no_grad():
        for _ in range(3):
            mod(x)
        torch.cuda.synchronize()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        for _ in range(reps):
            start.record()
            mod(x)
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) * 1000.0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tandem_results", help="output of gpu_rnn_bench")
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch_rnn_bench: torch sees no CUDA device")
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    rows = []
    with open(args.tandem_results) as f:
        for line in f:
            parts = line.split()
            # 8 fields (with persistent_us, "-" where the persistent kernel does not fit); 7 from older builds.
            if len(parts) not in (7, 8) or parts[0] not in ("lstm", "gru"):
                continue
            cell, inp, hid, seq, batch = parts[0], *map(int, parts[1:5])
            graph_us, direct_us = float(parts[5]), float(parts[6])
            persistent_us = float(parts[7]) if len(parts) == 8 and parts[7] != "-" else None
            cudnn_us = time_cudnn(cell, inp, hid, seq, batch, args.reps)
            rows.append((cell, inp, hid, seq, batch, graph_us, direct_us, persistent_us, cudnn_us))
    print("| cell | input | hidden | seq | batch | tandem µs (graph) | tandem µs (direct) | tandem µs (persistent) "
          "| cuDNN µs | tandem/cuDNN (graph) | tandem/cuDNN (persistent) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cell, inp, hid, seq, batch, g, d, p, c in rows:
        ps, pr = (f"{p:.1f}", f"{p / c:.2f}") if p is not None else ("–", "–")
        print(f"| {cell} | {inp} | {hid} | {seq} | {batch} | {g:.1f} | {d:.1f} | {ps} | {c:.1f} | {g / c:.2f} | {pr} |")
    if not rows:
        sys.exit("torch_rnn_bench: no result lines in " + args.tandem_results)


if __name__ == "__main__":
    main()
