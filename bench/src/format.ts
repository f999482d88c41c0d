// Plain-text and Markdown formatting of the suite's figures.

/** A Markdown table (also readable as plain text) with right-aligned numeric columns. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+[×%]?$|^—$/.test(r[i] ?? '')),
  );
  const cell = (text: string, i: number) =>
    numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => cell(c, i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(Math.max(1, w - 1))}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map((r) => line(r))].join('\n');
}

/** A number with a fixed count of decimals, or an em dash when it is not a finite number. */
export function fixed(value: number | undefined, decimals: number): string {
  return value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(decimals);
}

/**
 * How far a figure missed its bound, in its unit: ratios to 0.01, milliseconds to 0.001 below one
 * (a 0.007 ms miss must not print as 0.0), everything else to 0.1.
 */
export function gapText(gap: number, unit: string): string {
  const decimals = unit === '×' ? 2 : unit === 'ms' && Math.abs(gap) < 1 ? 3 : 1;
  return `${fixed(gap, decimals)} ${unit}`;
}

/** A signed number (`+0.12`, `-0.03`), for added latency. */
export function signed(value: number | undefined, decimals: number): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const text = value.toFixed(decimals);
  return value >= 0 && !text.startsWith('-') ? `+${text}` : text;
}

/** A ratio as `0.53×`. */
export function ratio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}×`;
}

/** Requests per second without decimals, with thousands separators. */
export function rps(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '—' : Math.round(value).toLocaleString('en-US');
}

/** Bytes as MB (10^6) with one decimal. */
export function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '—' : (bytes / 1e6).toFixed(1);
}
