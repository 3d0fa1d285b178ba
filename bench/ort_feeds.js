// Feeds for onnxruntime-node from raw files (bench/model_bench.js and bench/host_memory_bench.js): INPUTS.json
// maps each input name to {"dtype": "float32"|"int64"|..., "shape": [...], "file": "x.bin"} (little-endian
// elements, the file's path relative to INPUTS.json).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
  int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

function readFeeds(specPath) {
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const feeds = {};
  for (const [name, s] of Object.entries(spec)) {
    const Type = ARRAYS[s.dtype];
    if (!Type) throw new Error(`input '${name}': element type ${s.dtype} is not handled here`);
    const bytes = fs.readFileSync(path.resolve(path.dirname(specPath), s.file));
    const data = new Type(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    feeds[name] = new ort.Tensor(s.dtype, data, s.shape);
  }
  return feeds;
}

module.exports = { readFeeds };
