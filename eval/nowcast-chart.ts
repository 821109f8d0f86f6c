/** The nowcast evaluation's chart: MAE by lead per method, as a self-contained SVG (pure). */

export interface ChartSeries {
  name: string;
  /** [lead minutes, MAE K] */
  points: [number, number][];
}

const COLOURS = ['#7f7f7f', '#1f77b4', '#ff7f0e', '#d62728', '#2ca02c', '#9467bd'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function maeChartSvg(title: string, series: readonly ChartSeries[], note = ''): string {
  const W = 640, H = 400, L = 60, R = 170, T = 40, B = 60;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xMax = Math.max(60, ...xs);
  const yMax = ys.length ? Math.max(...ys) * 1.1 : 1;
  const px = (x: number) => L + (x / xMax) * (W - L - R);
  const py = (y: number) => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(`<text x="${L}" y="22" font-size="14">${esc(title)}</text>`);
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`, `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  for (const x of [0, 15, 30, 45, 60]) out.push(`<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${x}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - B + 34}" text-anchor="middle">lead [min]</text>`);
  for (let k = 0; k <= 4; k++) {
    const y = (yMax * k) / 4;
    out.push(`<text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(2)}</text>`, `<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">MAE [K]</text>`);
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"/>`);
    out.push(`<rect x="${W - R + 16}" y="${T + i * 20}" width="14" height="4" fill="${c}"/>`, `<text x="${W - R + 36}" y="${T + i * 20 + 6}">${esc(s.name)}</text>`);
  });
  if (note) out.push(`<text x="${L}" y="${H - 8}" font-size="10">${esc(note)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
