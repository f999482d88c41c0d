import { describe, expect, it } from 'vitest';
import { lineChartSvg } from './chart.ts';

describe('lineChartSvg', () => {
  it('draws one polyline and one legend entry per series, on log axes', () => {
    const svg = lineChartSvg({
      title: 'T & t',
      subtitle: 's',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          label: 'p50',
          color: '#111111',
          points: [
            { x: 1, y: 0.1 },
            { x: 16, y: 1 },
            { x: 64, y: 10 },
          ],
        },
        {
          label: 'p99',
          color: '#222222',
          dashed: true,
          points: [
            { x: 1, y: 1 },
            { x: 64, y: 100 },
          ],
        },
      ],
    });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('T &amp; t');
    expect(svg).toContain('stroke-dasharray');
    // Decade grid from 0.1 to 100 ms.
    for (const tick of ['>0.1<', '>1<', '>10<', '>100<']) expect(svg).toContain(tick);
    // x = 1 sits on the left edge of the plot area, x = 64 on the right one.
    const first = /<polyline points="([\d.]+),/.exec(svg)![1];
    expect(Number(first)).toBe(80);
  });
});
