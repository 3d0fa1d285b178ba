// ONNX Runtime's side of the CPU RNN benchmark (bench/cpu_rnn_bench.py drives it): the same line protocol
// as bench/cpu_rnn_bench.cc, through onnxruntime-node (CPU execution provider).
//
//   load NAME MODEL.onnx THREADS   a session with THREADS intra-op threads, one inter-op thread, all graph
//                                  optimisations; answers "ok"
//   time NAME ort N                N runs on random inputs; answers "us T1 T2 ..." (microseconds per run,
//                                  each including the JavaScript call into the native binding)
//   drop NAME                      releases the session; answers "ok"
//   quit
//
// onnxruntime-node is found through NODE_PATH (the driver sets it to the folder given by --ort-modules).
'use strict';
const ort = require('onnxruntime-node');
const readline = require('readline');

const sessions = new Map();

function randomFeeds(session, metadata) {
  const feeds = {};
  for (const name of session.inputNames) {
    const meta = metadata[name];
    const dims = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    let seed = 7;
    for (let i = 0; i < n; ++i) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      data[i] = (seed / 2147483648) * 2 - 1;
    }
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  return feeds;
}

async function handle(line) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'load') {
    const [name, path, threads] = args;
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: Number(threads),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const metadata = {};
    for (const m of session.inputMetadata) metadata[m.name] = m;
    sessions.set(name, { session, feeds: randomFeeds(session, metadata) });
    return 'ok';
  }
  if (cmd === 'time') {
    const [name, , runs] = args;
    const s = sessions.get(name);
    if (!s) throw new Error(`no model loaded as '${name}'`);
    const times = [];
    for (let r = 0; r < Number(runs); ++r) {
      const t0 = process.hrtime.bigint();
      await s.session.run(s.feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return 'us ' + times.join(' ');
  }
  if (cmd === 'drop') {
    const s = sessions.get(args[0]);
    if (s) await s.session.release();
    sessions.delete(args[0]);
    return 'ok';
  }
  throw new Error(`unknown command '${cmd}'`);
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (line.trim() === 'quit') break;
    if (line.trim() === '') continue;
    try {
      process.stdout.write((await handle(line)) + '\n');
    } catch (e) {
      process.stdout.write('error ' + String(e.message).replace(/\n/g, ' ') + '\n');
    }
  }
  process.exit(0);
}

main();
