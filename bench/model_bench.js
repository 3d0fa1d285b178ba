// ONNX Runtime's side of the whole-model benchmark (bench/model_bench.py drives it): one model, its inputs
// from raw files the driver wrote, timed through onnxruntime-node (CPU execution provider).
//
//   node model_bench.js MODEL.onnx INPUTS.json THREADS WARMUP RUNS
//
// INPUTS.json maps each input name to {"dtype": "float32"|"int64"|..., "shape": [...], "file": "x.bin"}
// (little-endian elements). Prints one line: "us T1 T2 ..." (microseconds per run, each including the
// JavaScript call into the native binding). onnxruntime-node is found through NODE_PATH.
'use strict';
const ort = require('onnxruntime-node');

const { readFeeds } = require('./ort_feeds.js');

async function main() {
  const [model, inputs, threads, warmup, runs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const feeds = readFeeds(inputs);
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  process.stdout.write('us ' + times.join(' ') + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e.message || e) + '\n');
  process.exit(1);
});
