// Load generator in its own process (so it does not share the simulator's core): autocannon,
// `connections` keep-alive connections, closed loop, 1 s warm-up then `seconds` measured.
import autocannon from 'autocannon';

const [url, connectionsText, secondsText, body] = process.argv.slice(2);
const options = {
  url,
  method: 'POST',
  connections: Number(connectionsText),
  headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json' },
  body,
};
await autocannon({ ...options, duration: 1 });
const result = await autocannon({ ...options, duration: Number(secondsText) });
process.stdout.write(
  `${JSON.stringify({
    rps: result.requests.average,
    errors: result.errors + result.non2xx + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  })}\n`,
);
