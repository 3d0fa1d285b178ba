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
            if len(parts) != 7 or parts[0] not in ("lstm", "gru"):
                continue
            cell, inp, hid, seq, batch = parts[0], *map(int, parts[1:5])
            graph_us, direct_us = float(parts[5]), float(parts[6])
            cudnn_us = time_cudnn(cell, inp, hid, seq, batch, args.reps)
            rows.append((cell, inp, hid, seq, batch, graph_us, direct_us, cudnn_us))
    print("| cell | input | hidden | seq | batch | tandem µs (graph) | tandem µs (direct) | cuDNN µs | tandem/cuDNN |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cell, inp, hid, seq, batch, g, d, c in rows:
        print(f"| {cell} | {inp} | {hid} | {seq} | {batch} | {g:.1f} | {d:.1f} | {c:.1f} | {g / c:.2f} |")
    if not rows:
        sys.exit("torch_rnn_bench: no result lines in " + args.tandem_results)


if __name__ == "__main__":
    main()
