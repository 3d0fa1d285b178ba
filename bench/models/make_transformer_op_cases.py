#!/usr/bin/python3
"""Test-case folders (model.onnx, test_data_set_0/input_J.pb) of the transformer ops opset 23 added and of
the activations around them, at the sizes of a small encoder layer, for bench/model_bench.py to time
against ONNX Runtime.

    /usr/bin/python3 bench/models/make_transformer_op_cases.py OUT_DIR

Writes OUT_DIR/attention_s{16,128,512} (8 heads of 64, batch 1, Q = K = V), attention_causal_s128,
rms_norm_128x512 and layer_norm_128x512 (over the last axis; LayerNormalization at opset 17 for
comparison) and rotary_128x8x64 (4-D input, position ids); softmax_8x128x128 and logsoftmax_8x128x128
(last axis), and tanh, sigmoid, erf, gelu (opset 20), exp and log over 128x512. Random inputs from a fixed seed.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def save(out, name, nodes, inputs, feeds, opset=23):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    graph = helper.make_graph(nodes, name, inputs, [helper.make_tensor_value_info("y", F, None)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    onnx.save(m, os.path.join(d, "model.onnx"))
    for j, (k, a) in enumerate(feeds.items()):
        with open(os.path.join(d, "test_data_set_0", f"input_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, k).SerializeToString())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    rng = np.random.default_rng(0)
    vi = helper.make_tensor_value_info
    for seq in (16, 128, 512):
        q = rng.standard_normal((1, 8, seq, 64)).astype(np.float32)
        qkv = [vi(n, F, [1, 8, seq, 64]) for n in "qkv"]
        feeds = {"q": q, "k": q.copy(), "v": q.copy()}
        save(out, f"attention_s{seq}", [helper.make_node("Attention", ["q", "k", "v"], ["y"])], qkv, feeds)
        if seq == 128:
            save(out, f"attention_causal_s{seq}",
                 [helper.make_node("Attention", ["q", "k", "v"], ["y"], is_causal=1)], qkv, feeds)
    x = rng.standard_normal((1, 128, 512)).astype(np.float32)
    s = rng.standard_normal(512).astype(np.float32)
    for name, op, opset in (("rms_norm_128x512", "RMSNormalization", 23), ("layer_norm_128x512", "LayerNormalization", 17)):
        save(out, name, [helper.make_node(op, ["x", "s"], ["y"], axis=-1)],
             [vi("x", F, [1, 128, 512]), vi("s", F, [512])], {"x": x, "s": s}, opset)
    save(out, "rotary_128x8x64", [helper.make_node("RotaryEmbedding", ["x", "c", "s", "p"], ["y"])],
         [vi("x", F, [1, 8, 128, 64]), vi("c", F, [128, 32]), vi("s", F, [128, 32]),
          vi("p", TensorProto.INT64, [1, 128])],
         {"x": rng.standard_normal((1, 8, 128, 64)).astype(np.float32),
          "c": rng.standard_normal((128, 32)).astype(np.float32),
          "s": rng.standard_normal((128, 32)).astype(np.float32),
          "p": np.arange(128, dtype=np.int64)[None, :]})
    scores = rng.standard_normal((1, 8, 128, 128)).astype(np.float32)
    for op in ("Softmax", "LogSoftmax"):
        save(out, f"{op.lower()}_8x128x128", [helper.make_node(op, ["x"], ["y"], axis=-1)],
             [vi("x", F, [1, 8, 128, 128])], {"x": scores}, 17)
    for op, opset in (("Tanh", 17), ("Sigmoid", 17), ("Erf", 17), ("Gelu", 20), ("Exp", 17), ("Log", 17)):
        feed = np.abs(x) + np.float32(1e-3) if op == "Log" else x  # Log of positive numbers (a spectrum's)
        save(out, f"{op.lower()}_128x512", [helper.make_node(op, ["x"], ["y"])], [vi("x", F, [1, 128, 512])],
             {"x": feed}, opset)


if __name__ == "__main__":
    main()
