// A small line chart as SVG (pure string building, so it can be unit-tested): added latency
// against concurrency, log-scaled on both axes.

/** One line of the chart. */
export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

const W = 980;
const H = 540;
const M = { left: 80, right: 310, top: 56, bottom: 64 };

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

/** Renders the series as an SVG document (log x, log y). Points with y ≤ 0 are drawn at the floor. */
export function lineChartSvg(options: {
  title: string;
  subtitle: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}): string {
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = options.series
    .flatMap((s) => s.points.map((p) => p.y))
    .filter((y) => y > 0 && Number.isFinite(y));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yTicks = decades(Math.min(...ys, 0.1), Math.max(...ys, 1));
  const yMin = yTicks[0]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) =>
    M.left +
    (xMax === xMin ? pw / 2 : ((Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * pw);
  const sy = (y: number) =>
    M.top + ph - ((Math.log(Math.max(y, yMin)) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans" font-size="13">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${M.left}" y="26" font-size="17" font-weight="bold">${xmlEscape(options.title)}</text>`,
  );
  parts.push(`<text x="${M.left}" y="44" fill="#555555">${xmlEscape(options.subtitle)}</text>`);
  for (const y of yTicks) {
    const py = sy(y).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${py}" y2="${py}" stroke="#e3e3e3"/>`);
    parts.push(
      `<text x="${M.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${y >= 1 ? y.toFixed(0) : y.toString()}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    const px = sx(x).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${M.top}" y2="${M.top + ph}" stroke="#eeeeee"/>`);
    parts.push(`<text x="${px}" y="${M.top + ph + 20}" text-anchor="middle">${x}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888888"/>`);
  parts.push(
    `<text x="${M.left + pw / 2}" y="${H - 18}" text-anchor="middle">${xmlEscape(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(22 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${xmlEscape(options.yLabel)}</text>`,
  );
  options.series.forEach((s, i) => {
    const pts = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    const dash = s.dashed ? ' stroke-dasharray="7 5"' : '';
    parts.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5"${dash}/>`,
    );
    for (const p of s.points)
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${s.color}"/>`);
    const ly = M.top + 10 + i * 24;
    const lx = M.left + pw + 20;
    parts.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${dash}/>`,
    );
    parts.push(`<text x="${lx + 36}" y="${ly}" dominant-baseline="middle">${xmlEscape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
