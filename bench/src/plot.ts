// Draws bench/added-latency.png (added latency vs concurrency) from bench/results/*.json.
// Pure JS/wasm: the SVG is built by chart.ts and rasterised by @resvg/resvg-wasm with the DejaVu
// Sans font shipped by the dejavu-fonts-ttf package, so it runs the same on any machine.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { lineChartSvg, type Series } from './chart.ts';
import { addedByConcurrency, loadResults } from './results.ts';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const results = loadResults(join(here, '..', 'results'));
const lines: Series[] = [];
const colors = { simulator: '#1f77b4', 'bare node:http': '#d62728', multi: '#2ca02c', floor: '#7f7f7f' };
for (const [name, rows, color] of [
  ['simulator upstream', addedByConcurrency(results, 'simulator'), colors.simulator],
  ['bare node:http upstream', addedByConcurrency(results, 'bare node:http'), colors['bare node:http']],
  ['multi-process, simulator', addedByConcurrency(results, 'cluster'), colors.multi],
  ['floor proxy, simulator', addedByConcurrency(results, 'floor'), colors.floor],
] as const) {
  if (rows.length === 0) continue;
  lines.push({
    label: `${name}: p50`,
    color,
    points: rows.map((r) => ({ x: r.connections, y: r.addedP50 })),
  });
  lines.push({
    label: `${name}: p99`,
    color,
    dashed: true,
    points: rows.map((r) => ({ x: r.connections, y: r.addedP99 })),
  });
}
if (lines.length === 0) throw new Error('no non-stream results in bench/results; run the suite first');
const meta = results.nonstream?.meta;
const svg = lineChartSvg({
  title: 'llm-edge: latency added by the gateway (non-stream chat)',
  subtitle: `gateway minus direct, median of runs, closed loop; ${meta ? `${meta.date.slice(0, 10)}, Node ${meta.node}, ${meta.cpus} CPUs` : ''}`,
  xLabel: 'concurrent connections (autocannon, keep-alive)',
  yLabel: 'added latency, ms (log scale)',
  series: lines,
});
await initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
const font = readFileSync(
  join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf'),
);
const png = new Resvg(svg, {
  font: {
    fontBuffers: [new Uint8Array(font)],
    defaultFontFamily: 'DejaVu Sans',
    sansSerifFamily: 'DejaVu Sans',
  },
  fitTo: { mode: 'width', value: 1350 },
}).render();
const out = join(here, '..', 'added-latency.png');
writeFileSync(out, png.asPng());
process.stderr.write(`wrote ${out} (${png.width}×${png.height})\n`);
