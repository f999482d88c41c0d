// Starts the built simulator with no latency, prints its URL, and answers CPU-usage queries over IPC.
import { startSimulator } from '../dist/index.js';

const sim = await startSimulator({ port: 0, timeScale: 0, seed: 1 });
process.on('message', () => process.send(process.cpuUsage()));
process.send({ url: sim.url });
