// Runs one ONNX test case on ONNX Runtime (onnxruntime-node) for make_cases.py: reads DIR/model.onnx and
// DIR/ort_inputs.json ({name: {type, dims, data}}), writes DIR/ort_outputs.json in the same form, outputs in
// the model's order. Strings and numbers travel as JSON; bigint (int64) as decimal strings, and the floats
// JSON has no numbers for as "Infinity", "-Infinity" and "NaN"; float16 as its 16-bit patterns.
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');

const kArrays = {float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
                 int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
                 int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array};

function toTensor(t) {
  if (t.type === 'string') return new ort.Tensor('string', t.data, t.dims);
  const Arr = kArrays[t.type];
  const data = (t.type === 'int64' || t.type === 'uint64') ? Arr.from(t.data.map(BigInt)) : Arr.from(t.data.map(Number));
  return new ort.Tensor(t.type, data, t.dims);
}

function fromTensor(t) {
  let data = Array.from(t.data);
  if (t.type === 'int64' || t.type === 'uint64') data = data.map(String);
  if (t.type === 'bool') data = data.map(Number);
  if (t.type === 'float32' || t.type === 'float64') data = data.map((v) => (Number.isFinite(v) ? v : String(v)));
  return {type: t.type, dims: t.dims, data};
}

(async () => {
  const dir = process.argv[2];
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {graphOptimizationLevel: 'disabled'});
  const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'ort_inputs.json'), 'utf8'));
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) feeds[name] = toTensor(t);
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) out[name] = fromTensor(results[name]);
  fs.writeFileSync(path.join(dir, 'ort_outputs.json'), JSON.stringify(out));
})().catch((e) => { console.error(String(e)); process.exit(1); });
