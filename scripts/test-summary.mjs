// Prints one closing line over every package's vitest JSON report, so a reader (or CI) sees
// the whole suite's count at the end of `pnpm run test:all`, after turbo's grouped output.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'examples', '.'];
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const root of roots) {
  if (!existsSync(root)) continue;
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, 'test-results.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8'));
    const p = report.numPassedTests ?? 0;
    const f = report.numFailedTests ?? 0;
    const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    passed += p;
    failed += f;
    skipped += s;
    rows.push(`  ${join(root, dir).padEnd(32)} ${String(p).padStart(5)} passed ${String(f).padStart(3)} failed`);
  }
}
console.log(rows.join('\n'));
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
