// bullmq_bench.mjs - the peer of `newsroom bench queue`: the same runs through BullMQ on the
// same Redis. In each run one producer adds N jobs while one Worker of concurrency W processes
// them with a no-op processor; the clock runs from the first add to the N-th completion. Two
// runs, as on the C side: "single", where the producer awaits each queue.add() in turn (one
// task per round trip, like queue_enqueue), and "batch", where it awaits queue.addBulk() of B
// jobs at a time (like queue_enqueue_batch). Commands per task: the delta of INFO commandstats
// calls (INFO itself left out) over the same window, divided by N, exactly as the C side counts
// its own.
//
// Run by bench/bench_queue.c as:
//   node bullmq_bench.mjs MODULE_DIR N W B
// with the Redis address in the environment (never on the command line): BENCH_REDIS_PATH (a
// Unix socket) or BENCH_REDIS_HOST and BENCH_REDIS_PORT, and BENCH_REDIS_USER,
// BENCH_REDIS_PASSWORD, BENCH_REDIS_DB. MODULE_DIR is the folder npm installed bullmq into.
// Prints one JSON line on stdout:
//   {"ok": true, "version", "n", "workers", "batch",
//    "single": {"seconds", "tasks_per_s", "commands_per_task"}, "batch_run": {...}}
// or {"ok": false, "error"}.
import { createRequire } from 'node:module';
import path from 'node:path';

const [moduleDir, nArg, wArg, bArg] = process.argv.slice(2);
const n = Number.parseInt(nArg, 10);
const workers = Number.parseInt(wArg, 10);
const batch = Number.parseInt(bArg, 10);

function report(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function connection() {
  const env = process.env;
  const c = { maxRetriesPerRequest: null };
  if (env.BENCH_REDIS_PATH) c.path = env.BENCH_REDIS_PATH;
  else {
    c.host = env.BENCH_REDIS_HOST || '127.0.0.1';
    c.port = Number.parseInt(env.BENCH_REDIS_PORT || '6379', 10);
  }
  if (env.BENCH_REDIS_USER) c.username = env.BENCH_REDIS_USER;
  if (env.BENCH_REDIS_PASSWORD) c.password = env.BENCH_REDIS_PASSWORD;
  if (env.BENCH_REDIS_DB) c.db = Number.parseInt(env.BENCH_REDIS_DB, 10);
  return c;
}

// Sum of calls over every command in INFO commandstats except INFO.
async function commandCalls(redis) {
  const text = await redis.info('commandstats');
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m && m[1] !== 'info') total += Number(m[2]);
  }
  return total;
}

async function run(bullmq, IORedis, admin, mode) {
  const { Queue, Worker } = bullmq;
  const name = `nrbench-${process.pid}-${mode}-${Date.now()}`;
  // Under Newsroom's own namespace (docs/redis-keys.md), and removed at the end.
  const queue = new Queue(name, { connection: connection(), prefix: 'nr:bench:bull' });
  let done = 0;
  let failure = null;
  let finish;
  let finished = new Promise((resolve) => { finish = resolve; });
  const worker = new Worker(name, async () => {}, {
    connection: connection(),
    prefix: 'nr:bench:bull',
    concurrency: workers,
    autorun: false,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  });
  worker.on('completed', () => {
    done += 1;
    if (done === n) finish();
  });
  worker.on('failed', (job, err) => { failure = err; finish(); });
  worker.on('error', (err) => { failure = err; finish(); });
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  worker.run();
  // Warm up: BullMQ loads its scripts on first use; the C side loads its own before the clock.
  await queue.add('warmup', { n: -1 });
  await queue.addBulk([{ name: 'warmup', data: { n: -2 } }]);
  while (done < 2 && failure === null) await new Promise((r) => setTimeout(r, 5));
  done = 0;

  const calls0 = await commandCalls(admin);
  const t0 = process.hrtime.bigint();
  if (mode === 'single') {
    for (let i = 0; i < n && failure === null; i++) await queue.add('bench', { n: i, title: 'bench' });
  } else {
    for (let i = 0; i < n && failure === null; i += batch) {
      const jobs = [];
      for (let k = i; k < Math.min(n, i + batch); k++) {
        jobs.push({ name: 'bench', data: { n: k, title: 'bench' } });
      }
      await queue.addBulk(jobs);
    }
  }
  await finished;
  const t1 = process.hrtime.bigint();
  const calls1 = await commandCalls(admin);
  if (failure !== null) throw failure;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  const seconds = Number(t1 - t0) / 1e9;
  return { seconds, tasks_per_s: n / seconds, commands_per_task: (calls1 - calls0) / n };
}

async function main() {
  if (!moduleDir || !(n > 0) || !(workers > 0) || !(batch > 0)) {
    throw new Error('usage: MODULE_DIR N W B');
  }
  const require = createRequire(path.join(moduleDir, 'package.json'));
  const bullmq = require('bullmq');
  const IORedis = require('ioredis');
  const version = require('bullmq/package.json').version;
  const admin = new IORedis(connection());
  const single = await run(bullmq, IORedis, admin, 'single');
  const batchRun = await run(bullmq, IORedis, admin, 'batch');
  await admin.quit();
  report({ ok: true, version, n, workers, batch, single, batch_run: batchRun });
}

main().then(
  () => process.exit(0),
  (err) => {
    report({ ok: false, error: String(err && err.message ? err.message : err) });
    process.exit(0);
  },
);
