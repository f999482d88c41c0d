// The work every gateway process does per request, and nothing more: parse the client's JSON body,
// forward it upstream with undici (the gateway's HTTP client) over a keep-alive pool, parse the
// upstream JSON and serialise it back to the client. A real gateway adds validation, auth, rate
// limits, routing, logging, metrics and tracing on top, so its CPU cost per request is higher.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = new URL(process.argv[2]);
const pool = new Pool(upstream.origin, { connections: 128, pipelining: 1 });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const answer = await pool.request({
        path: req.url,
        method: 'POST',
        headers: { authorization: req.headers.authorization, 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      const response = await answer.body.json();
      const text = JSON.stringify(response);
      res.writeHead(answer.statusCode, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    } catch {
      res.writeHead(502);
      res.end();
    }
  });
});
process.on('message', () => process.send(process.cpuUsage()));
server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
