// Runs the gateway as one process per worker with node:cluster, all accepting on one port:
// `node src/cluster-gateway.ts <config file> <port> <workers>`. Used when the installed
// `llm-edge` CLI has no `--workers` option of its own.
import cluster from 'node:cluster';
import { createGateway, loadConfigFile } from '@llm-edge/agent';

const [configFile, portText, workersText] = process.argv.slice(2);
const workers = Number(workersText);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  let ready = 0;
  cluster.on('listening', () => {
    ready++;
    if (ready === workers) process.stderr.write(`cluster: ${workers} workers listening\n`);
  });
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    let left = Object.keys(cluster.workers ?? {}).length;
    if (left === 0) process.exit(0);
    cluster.on('exit', () => {
      left--;
      if (left === 0) process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { config } = await loadConfigFile(configFile!, process.env);
  config.server.port = Number(portText);
  const gateway = createGateway(config, { env: process.env, source: configFile! });
  await gateway.start();
  process.on('SIGTERM', () => {
    gateway.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
