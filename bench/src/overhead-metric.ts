// Reads the gateway's own overhead histogram (`llm_edge_overhead_seconds`) from /metrics, so the
// suite can show what a user sees in production next to what the load generator measured.

/** Cumulative bucket counts of the overhead histogram (upper bound in ms → count). */
export type Buckets = Map<number, number>;

/** Parses the `llm_edge_overhead_seconds_bucket` lines of a Prometheus text exposition. */
export function parseOverheadBuckets(text: string, route: string): Buckets {
  const out: Buckets = new Map();
  const pattern = /^llm_edge_overhead_seconds_bucket\{([^}]*)\} (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/gm;
  for (const m of text.matchAll(pattern)) {
    const labels = m[1]!;
    if (!labels.includes(`route="${route}"`)) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le) * 1000;
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * The bucket bound (ms) under which `p` percent of the requests between two scrapes fell:
 * the histogram's resolution, not an interpolation.
 */
export function bucketPercentile(before: Buckets, after: Buckets, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Number.POSITIVE_INFINITY) ?? 0) - (before.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return Number.NaN;
  for (const bound of bounds) {
    const count = (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
    if (count >= (p / 100) * total) return bound;
  }
  return Number.POSITIVE_INFINITY;
}

/** Fetches the overhead buckets of a running gateway. */
export async function scrapeOverhead(url: string, route: string): Promise<Buckets> {
  const res = await fetch(`${url}/metrics`);
  return parseOverheadBuckets(await res.text(), route);
}
