// A dependency-free horizontal bar chart: one group per scenario, one bar per target, labelled
// with req/s and the ratio to the peer, so a reader takes the comparison in at a glance.
const COLORS = { peer: '#8c8c8c', ours: '#1f77b4', baseline: '#d62728', reference: '#2ca02c' };
const esc = (s) =>
  String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** opts.unit: what the bar values are (default '/s': requests per second), e.g. ' MB' or ' ms'. */
export function barChart(title, results, opts = {}) {
  const unit = opts.unit ?? '/s';
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const barH = 18;
  const gap = 6;
  const labelW = 230;
  const chartW = 420;
  let y = 40;
  const parts = [];
  for (const sc of scenarios) {
    const rows = results.filter((r) => r.scenario === sc);
    const max = Math.max(...rows.map((r) => (Number.isFinite(r.rps) ? r.rps : 0)), 1);
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(sc)}</text>`);
    y += 20;
    for (const r of rows) {
      const w = Number.isFinite(r.rps) ? Math.max(1, (r.rps / max) * chartW) : 0;
      const ratio = Number.isFinite(r.ratio) ? ` (${r.ratio.toFixed(2)}x)` : '';
      parts.push(`<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${esc(r.target)}</text>`);
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[r.role] ?? '#555'}"/>`,
      );
      parts.push(
        `<text x="${labelW + w + 6}" y="${y + 13}">${Number.isFinite(r.rps) ? Math.round(r.rps).toLocaleString('en-US') : '-'}${unit}${ratio}</text>`,
      );
      y += barH + gap;
    }
    y += 10;
  }
  const width = labelW + chartW + 150;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${parts.join('\n')}
</svg>
`;
}
