// ONNX Runtime's side of the host-memory benchmark (bench/host_memory_bench.py drives it): one model, its
// resident memory after each stage through onnxruntime-node (CPU execution provider, one thread).
//
//   node host_memory_bench.js MODEL.onnx INPUTS.json
//
// INPUTS.json: as bench/model_bench.js reads it. Prints one JSON line: {"start": KB, "loaded": KB,
// "session": KB, "run": KB, "peak": KB}; "start" is node with onnxruntime-node loaded, "loaded" equals
// "session" (ONNX Runtime loads the model as it makes the session), "peak" is VmHWM.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const { readFeeds } = require('./ort_feeds.js');

function statusKb(field) {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field + ':'));
  return line ? parseInt(line.slice(field.length + 1), 10) : -1;
}

async function main() {
  const [model, inputs] = process.argv.slice(2);
  const start = statusKb('VmRSS');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const made = statusKb('VmRSS');
  await session.run(readFeeds(inputs));
  const ran = statusKb('VmRSS');
  console.log(JSON.stringify({ start, loaded: made, session: made, run: ran, peak: statusKb('VmHWM') }));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
