// Closed-loop HTTP load from a worker thread: `concurrency` keep-alive connections, each sending
// the next request as soon as the previous answer is read.
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, path, body, concurrency, requests, warmup } = workerData;
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

function once() {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const overhead = Number(res.headers['x-llm-edge-overhead-ms'] ?? Number.NaN);
          resolve([Number(process.hrtime.bigint() - start) / 1e6, overhead]);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(total, record) {
  let next = 0;
  const latencies = [];
  const overheads = [];
  async function lane() {
    while (next < total) {
      next += 1;
      const [latency, overhead] = await once();
      if (record) {
        latencies.push(latency);
        if (!Number.isNaN(overhead)) overheads.push(overhead);
      }
    }
  }
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, latencies, overheads };
}

await run(warmup, false);
const result = await run(requests, true);
agent.destroy();
parentPort.postMessage(result);
