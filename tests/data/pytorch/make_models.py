#!/usr/bin/python3
"""Export small PyTorch RNN models to ONNX test-case folders for tandem.

Run with Debian's interpreter (needs python3-torch, python3-onnx, python3-numpy):

    /usr/bin/python3 tests/data/pytorch/make_models.py

For every model <name> this writes
    <name>/model.onnx
    <name>/test_data_set_0/input_J.pb   (graph-input order)
    <name>/test_data_set_0/output_J.pb  (graph-output order, computed by PyTorch in eval mode)
plus manifest.json describing inputs/outputs and per-op_type node counts
(including nodes nested in If/Loop/Scan subgraphs, and a model-local
function's call counted as the nodes of its body).

The script is idempotent: it deletes and rewrites each model folder, uses
fixed seeds, and is meant to produce byte-identical files on rerun.
"""

import collections
import json
import os
import shutil
import sys
from typing import List

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 2
SEQ = 5

torch.set_num_threads(1)  # keep CPU reductions in a fixed order


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class LSTM2LayerBidir(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(10, 12, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        y, (h, c) = self.rnn(x)
        return y, h, c


class LSTMInitialState(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 16, num_layers=1)

    def forward(self, x, h0, c0):
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


class GRUBatchFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(6, 10, num_layers=1, batch_first=True)

    def forward(self, x):
        y, h = self.rnn(x)
        return y, h


class RNNTanh2Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(5, 7, num_layers=2, nonlinearity='tanh')

    def forward(self, x):
        y, _ = self.rnn(x)
        return y


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.rnn = nn.LSTM(8, 12, batch_first=True)
        self.proj = nn.Linear(12, 5)

    def forward(self, tokens):
        e = self.emb(tokens)
        y, _ = self.rnn(e)
        return F.log_softmax(self.proj(y), dim=-1)


class CRNN(nn.Module):
    """[batch, 1, 8, W] -> conv/relu/pool -> [W/2, batch, 16] -> biLSTM -> Linear -> log_softmax."""

    def __init__(self, num_classes=7):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.rnn = nn.LSTM(4 * 4, 6, bidirectional=True)
        self.proj = nn.Linear(12, num_classes)

    def forward(self, img):
        f = self.pool(F.relu(self.conv(img)))      # [b, 4, 4, W/2]
        f = f.permute(3, 0, 1, 2)                   # [W/2, b, 4, 4]
        f = f.flatten(2)                            # [W/2, b, 16]
        y, _ = self.rnn(f)                          # [W/2, b, 12]
        return F.log_softmax(self.proj(y), dim=-1)  # [W/2, b, C]


class TwoEncoders(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 9, num_layers=1)
        self.gru = nn.GRU(6, 11, num_layers=1)
        self.proj = nn.Linear(9 + 11, 4)

    def forward(self, x):
        _, (h_l, _) = self.lstm(x)   # [1, b, 9]
        _, h_g = self.gru(x)         # [1, b, 11]
        h = torch.cat([h_l[-1], h_g[-1]], dim=-1)  # [b, 20]
        return self.proj(h)


class FunctionStack(nn.Module):
    """LSTM -> Linear -> Tanh -> Linear, exported with every module as a model-local ONNX function."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(6, 8, batch_first=True)
        self.hidden = nn.Linear(8, 8)
        self.act = nn.Tanh()
        self.out = nn.Linear(8, 4)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.out(self.act(self.hidden(y)))


class LoopDecoder(nn.Module):
    """An LSTMCell decoder fed its own projected output for `steps` steps (a data-dependent trip count):
    scripted, so the exporter writes an ONNX Loop whose carried values include a growing output."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(6, 8)
        self.proj = nn.Linear(8, 6)

    def forward(self, x0, h0, c0, steps):
        h, c, x = h0, c0, x0
        ys = x0.unsqueeze(0)[:0]
        for _ in range(int(steps)):
            h, c = self.cell(x, (h, c))
            x = torch.tanh(self.proj(h))
            ys = torch.cat([ys, x.unsqueeze(0)], 0)
        return ys, h


class ListDecoder(LoopDecoder):
    """LoopDecoder's loop appending each step's output to a Python list, stacked at the end: scripted, the
    exporter writes SequenceEmpty, a Loop carrying the sequence with SequenceInsert in its body, and
    ConcatFromSequence (new_axis=1) after it."""

    def forward(self, x0, h0, c0, steps):
        h, c, x = h0, c0, x0
        ys: List[torch.Tensor] = []
        for _ in range(int(steps)):
            h, c = self.cell(x, (h, c))
            x = torch.tanh(self.proj(h))
            ys.append(x)
        return torch.stack(ys), h


class RnnFamilyDouble(nn.Module):
    """A bidirectional LSTM from given initial states, then a GRU, then an RNN with ReLU, all in float64
    (exported after `.double()`): every recurrent op of ONNX in double, tiny (a few KB)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, bidirectional=True)
        self.gru = nn.GRU(8, 5)
        self.rnn = nn.RNN(5, 3, nonlinearity='relu')

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        z, h_gru = self.gru(y)
        r, h_rnn = self.rnn(z)
        return r, h, c, h_gru, h_rnn


# --------------------------------------------------------------------------
# Specs: (name, ctor, opset, input_names, output_names, dynamic_axes, make_inputs)
# --------------------------------------------------------------------------

def _randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def _lstm_initial_state_inputs():
    return (_randn(SEQ, BATCH, 8), _randn(1, BATCH, 16) * 0.5, _randn(1, BATCH, 16) * 0.5)


# The scripted decoders' inputs, outputs and axes (LoopDecoder, ListDecoder).
_DECODER_SPEC = dict(
    opset=14, inputs=['x0', 'h0', 'c0', 'steps'], outputs=['ys', 'h'],
    axes={'x0': {0: 'batch'}, 'h0': {0: 'batch'}, 'c0': {0: 'batch'}, 'ys': {0: 'steps', 1: 'batch'},
          'h': {0: 'batch'}},
    make_inputs=lambda: (_randn(BATCH, 6), _randn(BATCH, 8) * 0.5, _randn(BATCH, 8) * 0.5,
                         torch.tensor(SEQ, dtype=torch.int64)),
    script=True)


_LSTM_INIT_AXES = {
    'x': {0: 'seq', 1: 'batch'},
    'h0': {1: 'batch'},
    'c0': {1: 'batch'},
    'y': {0: 'seq', 1: 'batch'},
    'h_n': {1: 'batch'},
    'c_n': {1: 'batch'},
}

SPECS = [
    dict(name='lstm_2layer_bidir', ctor=LSTM2LayerBidir, opset=14,
         inputs=['x'], outputs=['y', 'h_n', 'c_n'],
         axes={'x': {0: 'batch', 1: 'seq'}, 'y': {0: 'batch', 1: 'seq'},
               'h_n': {1: 'batch'}, 'c_n': {1: 'batch'}},
         make_inputs=lambda: (_randn(BATCH, SEQ, 10),)),
    dict(name='lstm_initial_state', ctor=LSTMInitialState, opset=14,
         inputs=['x', 'h0', 'c0'], outputs=['y', 'h_n', 'c_n'],
         axes=_LSTM_INIT_AXES, make_inputs=_lstm_initial_state_inputs),
    dict(name='gru_batch_first', ctor=GRUBatchFirst, opset=14,
         inputs=['x'], outputs=['y', 'h_n'],
         axes={'x': {0: 'batch', 1: 'seq'}, 'y': {0: 'batch', 1: 'seq'},
               'h_n': {1: 'batch'}},
         make_inputs=lambda: (_randn(BATCH, SEQ, 6),)),
    dict(name='rnn_tanh_2layer', ctor=RNNTanh2Layer, opset=14,
         inputs=['x'], outputs=['y'],
         axes={'x': {0: 'seq', 1: 'batch'}, 'y': {0: 'seq', 1: 'batch'}},
         make_inputs=lambda: (_randn(SEQ, BATCH, 5),)),
    dict(name='tagger', ctor=Tagger, opset=14,
         inputs=['tokens'], outputs=['log_probs'],
         axes={'tokens': {0: 'batch', 1: 'seq'}, 'log_probs': {0: 'batch', 1: 'seq'}},
         make_inputs=lambda: (torch.randint(0, 50, (BATCH, SEQ), dtype=torch.int64),)),
    dict(name='crnn', ctor=CRNN, opset=14,
         inputs=['image'], outputs=['log_probs'],
         axes={'image': {0: 'batch', 3: 'width'}, 'log_probs': {0: 'seq', 1: 'batch'}},
         make_inputs=lambda: (torch.rand(BATCH, 1, 8, 16, dtype=torch.float32),)),
    dict(name='two_encoders', ctor=TwoEncoders, opset=14,
         inputs=['x'], outputs=['logits'],
         axes={'x': {0: 'seq', 1: 'batch'}, 'logits': {0: 'batch'}},
         make_inputs=lambda: (_randn(SEQ, BATCH, 6),)),
    # "lstm_opset18" in the brief: torch 1.13's exporter supports opsets up to
    # 17 only, so this is exported (and named) with the highest one available.
    dict(name='lstm_opset{opset}', ctor=LSTMInitialState, opset='max<=18',
         inputs=['x', 'h0', 'c0'], outputs=['y', 'h_n', 'c_n'],
         axes=_LSTM_INIT_AXES, make_inputs=_lstm_initial_state_inputs),
    # torch.onnx.export(..., export_modules_as_functions=True): the main graph is one call of
    # FunctionStack, whose body calls LSTM, Linear (twice) and Tanh, each a model-local function.
    # Last in the list, so the seeds of the models above stay as they were.
    dict(name='lstm_linear_functions', ctor=FunctionStack, opset=15,
         inputs=['x'], outputs=['y'],
         axes={'x': {0: 'batch', 1: 'seq'}, 'y': {0: 'batch', 1: 'seq'}},
         make_inputs=lambda: (_randn(BATCH, SEQ, 6),), functions=True),
    # torch.jit.script: the Python loop becomes an ONNX Loop (with the LSTMCell as an LSTM in its body).
    dict(name='lstm_loop_decoder', ctor=LoopDecoder, **_DECODER_SPEC),
    # The same decoder keeping its outputs in a list: ONNX sequence values inside and around the Loop.
    dict(name='lstm_list_decoder', ctor=ListDecoder, **_DECODER_SPEC),
    # float64 throughout (`double=True`: the model is converted with .double() before export), inputs drawn
    # in double: tandem's double kernels against PyTorch's to ~1e-12.
    dict(name='rnn_family_double', ctor=RnnFamilyDouble, opset=14,
         inputs=['x', 'h0', 'c0'], outputs=['y', 'h_lstm', 'c_lstm', 'h_gru', 'h_rnn'],
         axes={'x': {0: 'seq', 1: 'batch'}, 'h0': {1: 'batch'}, 'c0': {1: 'batch'},
               'y': {0: 'seq', 1: 'batch'}, 'h_lstm': {1: 'batch'}, 'c_lstm': {1: 'batch'},
               'h_gru': {1: 'batch'}, 'h_rnn': {1: 'batch'}},
         make_inputs=lambda: (torch.randn(SEQ, BATCH, 3, dtype=torch.float64),
                              torch.randn(2, BATCH, 4, dtype=torch.float64) * 0.5,
                              torch.randn(2, BATCH, 4, dtype=torch.float64) * 0.5),
         double=True),
]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def max_export_opset(wanted):
    try:
        from torch.onnx._constants import ONNX_MAX_OPSET
    except ImportError:  # older/newer layouts
        from torch.onnx.symbolic_helper import _onnx_main_opset as ONNX_MAX_OPSET
    return min(wanted, int(ONNX_MAX_OPSET))


def count_ops(graph, counter, functions=None):
    """Nodes per op_type; a call of a model-local function counts as the nodes of its body (expanded)."""
    functions = functions or {}
    for node in graph.node:
        body = functions.get((node.domain, node.op_type))
        if body is not None:
            count_ops(body, counter, functions)
            continue
        counter[node.op_type] += 1
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                count_ops(attr.g, counter, functions)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    count_ops(g, counter, functions)
    return counter


def value_info_desc(vi):
    tt = vi.type.tensor_type
    shape = []
    for d in tt.shape.dim:
        if d.HasField('dim_value'):
            shape.append(int(d.dim_value))
        elif d.HasField('dim_param'):
            shape.append(d.dim_param)
        else:
            shape.append(None)
    return {
        'name': vi.name,
        'dtype': onnx.TensorProto.DataType.Name(tt.elem_type).lower(),
        'shape': shape,
    }


def to_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def run_torch(model, inputs):
    with torch.no_grad():
        return [t.detach().cpu().numpy().copy() for t in to_tuple(model(*inputs))]


def export_one(spec, seed):
    opset = spec['opset']
    if opset == 'max<=18':
        opset = max_export_opset(18)
        if opset < 18:
            print(f"note: torch {torch.__version__} cannot export opset 18; using opset {opset}")
    name = spec['name'].format(opset=opset)

    torch.manual_seed(seed)
    np.random.seed(seed)
    model = spec['ctor']().eval()
    if spec.get('double'):
        model = model.double()
    inputs = spec['make_inputs']()
    exported = torch.jit.script(model) if spec.get('script') else model

    out_dir = os.path.join(HERE, name)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    data_dir = os.path.join(out_dir, 'test_data_set_0')
    os.makedirs(data_dir)
    model_path = os.path.join(out_dir, 'model.onnx')

    # Expected outputs, computed twice to make sure PyTorch is deterministic.
    expected = run_torch(model, inputs)
    again = run_torch(model, inputs)
    for a, b in zip(expected, again):
        if not np.array_equal(a, b):
            raise RuntimeError(f"{name}: PyTorch outputs differ between two runs")

    torch.onnx.export(
        exported, inputs, model_path,
        input_names=spec['inputs'], output_names=spec['outputs'],
        dynamic_axes=spec['axes'], opset_version=opset,
        do_constant_folding=True, export_params=True,
        training=torch.onnx.TrainingMode.EVAL,
        **({'export_modules_as_functions': True} if spec.get('functions') else {}),
    )

    m = onnx.load(model_path)
    if spec.get('functions'):
        # torch 1.13 leaves output_names and the outputs' dynamic_axes unapplied when exporting modules as
        # functions (output '124' of shape [FunctionStack124_dim_0, ...]): the graph's outputs, the call
        # outputs that produce them and their symbolic dimensions are named here.
        renames = {vi.name: want for vi, want in zip(m.graph.output, spec['outputs'])}
        for vi in m.graph.output:
            vi.name = renames[vi.name]
            dims = vi.type.tensor_type.shape.dim
            for axis, symbol in spec['axes'].get(vi.name, {}).items():
                dims[axis].dim_param = symbol
        for node in m.graph.node:
            node.output[:] = [renames.get(o, o) for o in node.output]
        onnx.save(m, model_path)
    onnx.checker.check_model(m)

    graph_inputs = [vi for vi in m.graph.input]
    init_names = {t.name for t in m.graph.initializer}
    graph_inputs = [vi for vi in graph_inputs if vi.name not in init_names]
    graph_outputs = list(m.graph.output)

    in_by_name = dict(zip(spec['inputs'], inputs))
    if [vi.name for vi in graph_inputs] != [n for n in spec['inputs'] if n in
                                            {vi.name for vi in graph_inputs}]:
        raise RuntimeError(f"{name}: unexpected graph input order")
    if len(graph_inputs) != len(spec['inputs']):
        raise RuntimeError(f"{name}: exporter dropped inputs: {[vi.name for vi in graph_inputs]}")
    if [vi.name for vi in graph_outputs] != spec['outputs']:
        raise RuntimeError(f"{name}: unexpected graph outputs {[vi.name for vi in graph_outputs]}")

    for j, vi in enumerate(graph_inputs):
        arr = in_by_name[vi.name].numpy()
        tp = numpy_helper.from_array(arr, vi.name)
        with open(os.path.join(data_dir, f'input_{j}.pb'), 'wb') as f:
            f.write(tp.SerializeToString())
    for j, (vi, arr) in enumerate(zip(graph_outputs, expected)):
        tp = numpy_helper.from_array(arr, vi.name)
        with open(os.path.join(data_dir, f'output_{j}.pb'), 'wb') as f:
            f.write(tp.SerializeToString())

    opset_imported = {o.domain or 'ai.onnx': o.version for o in m.opset_import}
    functions = {(f.domain, f.name): f for f in m.functions}
    if spec.get('functions') and not functions:
        raise RuntimeError(f"{name}: the export has no model-local functions")
    ops = count_ops(m.graph, collections.Counter(), functions)
    entry = {
        'name': name,
        'opset': opset_imported.get('ai.onnx', opset),
        'inputs': [value_info_desc(vi) for vi in graph_inputs],
        'outputs': [dict(value_info_desc(vi), test_shape=list(a.shape))
                    for vi, a in zip(graph_outputs, expected)],
        'test_input_shapes': [list(in_by_name[vi.name].shape) for vi in graph_inputs],
        'num_nodes': sum(ops.values()),
        'num_initializers': len(m.graph.initializer),
        'op_counts': dict(sorted(ops.items())),
    }
    if functions:  # op_counts and num_nodes then count the nodes the calls expand to
        entry['local_functions'] = sorted(f'{d}:{n}' for d, n in functions)
        entry['main_graph_nodes'] = len(m.graph.node)
    size = os.path.getsize(model_path)
    print(f"{name:22s} opset {entry['opset']:2d}  {size:7d} bytes  ops {entry['op_counts']}")
    if size > 200 * 1024:
        raise RuntimeError(f"{name}: model.onnx is {size} bytes (> 200 KB)")
    return entry


def main():
    manifest = {
        'generator': 'tests/data/pytorch/make_models.py',
        'torch_version': torch.__version__.split('+')[0],
        'onnx_version': onnx.__version__,
        'batch': BATCH,
        'seq': SEQ,
        'models': [],
    }
    for i, spec in enumerate(SPECS):
        manifest['models'].append(export_one(spec, seed=1000 + i))
    with open(os.path.join(HERE, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
