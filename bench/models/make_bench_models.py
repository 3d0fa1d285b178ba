#!/usr/bin/python3
"""Export the three models of the dual-device benchmark (issue 6's target) to ONNX.

    /usr/bin/python3 bench/models/make_bench_models.py OUT_DIR [--hidden 256] [--seq 100]

Writes OUT_DIR/two_branch.onnx (an LSTM and a GRU encoder side by side on one input), OUT_DIR/bidir2.onnx
(a 2-layer bidirectional LSTM) and OUT_DIR/stacked4.onnx (a 4-layer LSTM, which the partitioner may split
into time chunks), all at batch 1 with fixed shapes. Weights are random with a fixed seed, on a grid of
2^-12 (see coarsen_weights): the benchmark measures time and memory, not accuracy.
"""

import argparse
import os

import torch
import torch.nn as nn


class TwoBranch(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden)
        self.gru = nn.GRU(n_in, hidden)

    def forward(self, x):
        a, _ = self.lstm(x)
        b, _ = self.gru(x)
        return a + b


class Bidir2(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.rnn = nn.LSTM(n_in, hidden, num_layers=2, bidirectional=True)

    def forward(self, x):
        y, _ = self.rnn(x)
        return y


class Stacked4(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.rnn = nn.LSTM(n_in, hidden, num_layers=4)

    def forward(self, x):
        y, _ = self.rnn(x)
        return y


class SingleRnn(nn.Module):
    """One LSTM or GRU layer returning its output sequence: the CPU kernel benchmark's model."""

    def __init__(self, kind, n_in, hidden, bidirectional=False):
        super().__init__()
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](n_in, hidden, bidirectional=bidirectional)

    def forward(self, x):
        y, _ = self.rnn(x)
        return y


def export_single_rnn(path, kind, n_in, hidden, seq, batch, seed=0, bidirectional=False):
    """Exports SingleRnn (kind "lstm" or "gru", one direction or both) at fixed shapes [seq, batch, n_in] to
    `path` and returns the PyTorch module, so a benchmark can time the very weights it exported
    (bench/cpu_rnn_bench.py)."""
    torch.manual_seed(seed)
    model = SingleRnn(kind, n_in, hidden, bidirectional).eval()
    x = torch.randn(seq, batch, n_in)
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], opset_version=14)
    return model


def coarsen_weights(model, step=2.0 ** -12):
    """Rounds every parameter to a multiple of `step`. The GPU pack carries these models gzipped within the
    device tool's 64 MiB (tools/gpu_check.sh): PyTorch's uniform initial weights (|w| <= 1/sqrt(hidden))
    on this grid keep about 500 distinct values, still random and nonzero in every gate, and gzip to 42% of
    their size instead of 91%. Time and memory do not depend on the values (no denormals either way)."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.round(p / step) * step)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--seq", type=int, default=100)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(args.seq, 1, args.hidden)
    for name, cls in [("two_branch", TwoBranch), ("bidir2", Bidir2), ("stacked4", Stacked4)]:
        model = coarsen_weights(cls(args.hidden, args.hidden).eval())
        path = os.path.join(args.out, name + ".onnx")
        torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], opset_version=14)
        print(path)


if __name__ == "__main__":
    main()
