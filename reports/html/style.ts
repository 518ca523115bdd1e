/**
 * The report's only stylesheet, inlined. System fonts only (nothing to fetch); colours are
 * never the sole carrier of meaning; print rules keep tables and charts whole on a page.
 */
export const REPORT_CSS = `
:root { --fg:#1a1a1a; --muted:#5f6368; --line:#d0d4da; --pass:#176b2c; --pass-bg:#e3f4e6; --fail:#a1161b; --fail-bg:#fde7e7; --warn:#7a4b00; --warn-bg:#fff3d6; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px; color: var(--fg); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: 0; word-break: break-word; }
h2 { font-size: 1.2rem; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.86rem; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 12px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.muted { color: var(--muted); }
.verdict { display: flex; gap: 20px; align-items: center; padding: 16px 20px; border: 2px solid; border-radius: 8px; }
.verdict .meta, .verdict .reason { margin: 4px 0 0; }
.verdict .reason { font-weight: 600; }
.verdict-badge { font-size: 1.7rem; font-weight: 800; letter-spacing: 0.04em; white-space: nowrap; }
.verdict.pass { border-color: var(--pass); background: var(--pass-bg); } .verdict.pass .verdict-badge { color: var(--pass); }
.verdict.fail { border-color: var(--fail); background: var(--fail-bg); } .verdict.fail .verdict-badge { color: var(--fail); }
.verdict.aborted, .verdict.void { border-color: var(--warn); background: var(--warn-bg); }
.verdict.aborted .verdict-badge, .verdict.void .verdict-badge { color: var(--warn); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { width: 180px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 700; font-size: 0.85rem; border: 1px solid; white-space: nowrap; }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
tr[data-passed="false"] td.margin { color: var(--fail); font-weight: 700; }
.error { color: var(--fail); font-weight: 600; }
.stats { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 16px 0 8px; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.stat .label { color: var(--muted); font-size: 0.8rem; }
.stat .value { font-size: 1.25rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.stat .level { display: block; }
.stat .level .muted { font-size: 0.8rem; font-weight: 400; }
figure.chart { margin: 16px 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart svg { display: block; width: 100%; height: auto; }
.key { font-size: 0.85rem; color: var(--muted); margin: 4px 0 0; }
.swatch { display: inline-block; width: 14px; height: 10px; vertical-align: middle; margin: 0 4px 0 10px; border: 1px solid #999; }
.swatch.fault { background: rgba(214, 39, 40, 0.13); }
.swatch.detect { border: 0; border-top: 2px dashed #b45309; height: 0; }
.swatch.recover { border: 0; border-top: 2px solid #15803d; height: 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 0.8rem; }
@media (max-width: 760px) { .stats { grid-template-columns: repeat(2, 1fr); } .verdict { flex-direction: column; align-items: flex-start; } }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure.chart, table, .verdict, .stats, tr { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  details { display: block; } details > summary { list-style: none; }
  pre { white-space: pre-wrap; }
}
`;
