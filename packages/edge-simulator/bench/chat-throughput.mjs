// Benchmark: non-stream chat completions served by one simulator process (one event loop = one core),
// next to two references for what one gateway process can forward: a minimal gateway (JSON in, undici
// upstream, JSON out — the least any gateway does) and a bare byte-piping proxy (less than any gateway).
// Throughput on a shared machine depends on how the cores are split between the processes, so the
// headline figure is requests per CPU-second of each process (= its request rate if it had a core to
// itself), measured with process.cpuUsage() around the measured window.
// Usage: pnpm bench   (env: BENCH_SECONDS=10 BENCH_CONNECTIONS=64)
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Write one sentence about the sea.' },
  ],
  max_tokens: 64,
});

async function startServer(script, args = []) {
  const child = fork(here(script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [{ url }] = await once(child, 'message');
  const cpu = async () => {
    child.send('cpu');
    const [usage] = await once(child, 'message');
    return (usage.user + usage.system) / 1e6;
  };
  return { child, url, cpu };
}

async function load(url, servers) {
  const child = spawn(
    process.execPath,
    [here('./load.mjs'), url, String(connections), String(seconds), body],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = once(child, 'exit');
  const output = once(child.stdout, 'data');
  // The load tool warms up for 1 s first; CPU is sampled around the measured window only.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = await Promise.all(servers.map((s) => s.cpu()));
  const [line] = await output;
  const after = await Promise.all(servers.map((s) => s.cpu()));
  await exited;
  const result = JSON.parse(String(line));
  return { ...result, cpuSeconds: after.map((a, i) => a - before[i]) };
}

const floor = await startServer('./http-floor.mjs');
const floorRun = await load(`${floor.url}/v1/chat/completions`, [floor]);
floor.child.kill();
const sim = await startServer('./sim-server.mjs');
const direct = await load(`${sim.url}/v1/chat/completions`, [sim]);
const gateway = await startServer('./minimal-gateway.mjs', [sim.url]);
const viaGateway = await load(`${gateway.url}/v1/chat/completions`, [sim, gateway]);
gateway.child.kill();
const proxy = await startServer('./forward-proxy.mjs', [sim.url]);
const viaProxy = await load(`${proxy.url}/v1/chat/completions`, [sim, proxy]);
proxy.child.kill();
sim.child.kill();

const perCpu = (requests, cpuSeconds) => Math.round(requests / cpuSeconds);
const n = (x) => Math.round(x).toLocaleString('en-US');
const simPerCpu = perCpu(direct.requests, direct.cpuSeconds[0]);
const floorPerCpu = perCpu(floorRun.requests, floorRun.cpuSeconds[0]);
const proxyPerCpu = perCpu(viaProxy.requests, viaProxy.cpuSeconds[1]);
const gatewayPerCpu = perCpu(viaGateway.requests, viaGateway.cpuSeconds[1]);
console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${connections} connections, ${seconds} s`,
);
console.log(
  `simulator alone:        ${n(direct.rps)} req/s (p50 ${direct.p50} ms, p99 ${direct.p99} ms, errors ${direct.errors}), ${n(simPerCpu)} req per CPU-second`,
);
console.log(
  `node:http floor:        ${n(floorRun.rps)} req/s (p50 ${floorRun.p50} ms, p99 ${floorRun.p99} ms), ${n(floorPerCpu)} req per CPU-second; simulator at ${Math.round((100 * simPerCpu) / floorPerCpu)} % of it`,
);
console.log(
  `minimal gateway->sim:   ${n(viaGateway.rps)} req/s (p50 ${viaGateway.p50} ms, p99 ${viaGateway.p99} ms, errors ${viaGateway.errors}), gateway ${n(gatewayPerCpu)} req per CPU-second`,
);
console.log(
  `byte-piping proxy->sim:  ${n(viaProxy.rps)} req/s (p50 ${viaProxy.p50} ms, p99 ${viaProxy.p99} ms, errors ${viaProxy.errors}), proxy ${n(proxyPerCpu)} req per CPU-second`,
);
console.log(
  `one simulator core serves what ${(simPerCpu / gatewayPerCpu).toFixed(1)} minimal-gateway cores (${(simPerCpu / proxyPerCpu).toFixed(1)} byte-piping-proxy cores) can forward`,
);
