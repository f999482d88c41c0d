// The floor of node:http on this machine: read the body, answer a fixed chat.completion. Nothing an
// HTTP server in Node can do per request is cheaper; the simulator is compared against it.
import { createServer } from 'node:http';

const answer = JSON.stringify({
  id: 'chatcmpl-floor',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The sea is wide.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
});
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
process.on('message', () => process.send(process.cpuUsage()));
server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
