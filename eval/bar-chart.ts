/** A grouped bar chart as a standalone SVG string (no dependencies); NaN values leave a gap. Pure. */

export interface BarChart {
  title: string;
  /** One group of bars per entry (x-axis labels). */
  groups: string[];
  /** One bar per group for each series; values.length === groups.length. */
  series: { name: string; values: number[] }[];
  /** Unit of the y-axis, shown after the title's values. */
  unit?: string;
}

// Okabe–Ito colour-blind-safe palette.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChartSvg(c: BarChart): string {
  for (const s of c.series) if (s.values.length !== c.groups.length) throw new RangeError(`series "${s.name}" has ${s.values.length} values for ${c.groups.length} groups`);
  const W = 760, H = 420, left = 56, right = 16, top = 48, bottom = 92;
  const values = c.series.flatMap((s) => s.values).filter(Number.isFinite);
  const max = values.length ? Math.max(...values) : 1;
  const step = niceStep(max / 5);
  const yMax = Math.ceil(max / step) * step || 1;
  const plotW = W - left - right, plotH = H - top - bottom;
  const groupW = plotW / c.groups.length;
  const barW = (groupW * 0.8) / Math.max(1, c.series.length);
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(c.title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${+v.toFixed(3)}</text>`);
  }
  c.groups.forEach((g, gi) => {
    const gx = left + gi * groupW + groupW * 0.1;
    c.series.forEach((s, si) => {
      const v = s.values[gi]!;
      if (!Number.isFinite(v)) return;
      const x = gx + si * barW;
      out.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(s.name)}: ${v.toFixed(3)}</title></rect>`);
      out.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${v.toFixed(2)}</text>`);
    });
    out.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(g)}</text>`);
  });
  c.series.forEach((s, si) => {
    const lx = left + si * 170, ly = H - 28;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLOURS[si % COLOURS.length]}"/><text x="${lx + 18}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
