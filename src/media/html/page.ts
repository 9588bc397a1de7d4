import { escapeHtml } from './escape';

/**
 * The frame and stylesheet both pages share. The CSS keeps to what IE7 in standards mode reads
 * (type and class selectors, tables, no generated content, no flex or grid) so a bare Server 2008
 * shows the same tables a current browser does; the print part starts each host on a new sheet,
 * repeats table headers on every printed page (thead), keeps a row on one page and lets long
 * hashes and paths wrap instead of being cut off at the margin. Paper size is left to the
 * printer (A4 or Letter); only the margins are set.
 */
export const STYLESHEET = `
body { font-family: Arial, Helvetica, sans-serif; font-size: 13px; color: #111; background: #fff; margin: 16px 24px; }
h1 { font-size: 22px; margin: 0 0 6px 0; }
h2 { font-size: 18px; margin: 22px 0 6px 0; padding-bottom: 3px; border-bottom: 2px solid #345; }
h3 { font-size: 14px; margin: 16px 0 4px 0; }
p { margin: 4px 0 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px 0; table-layout: fixed; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; word-wrap: break-word; overflow-wrap: break-word; }
th { background: #e4e8ee; font-weight: bold; }
table.facts { width: auto; max-width: 100%; table-layout: auto; }
table.facts th { width: 190px; }
.hash, .mono { font-family: "Courier New", Courier, monospace; font-size: 12px; }
.hash { word-break: break-all; }
th.hash { font-family: Arial, Helvetica, sans-serif; font-size: 13px; word-break: normal; }
.num { text-align: right; }
.muted { color: #555; }
.warn { border: 2px solid #b00; background: #fdecea; color: #600; padding: 6px 8px; margin: 8px 0; font-weight: bold; }
.ok { color: #1b5e20; font-weight: bold; }
.bad { color: #b00; font-weight: bold; }
.status { padding: 1px 4px; border: 1px solid #888; white-space: nowrap; }
.s-complete, .s-installed { background: #d8eed9; }
.s-skipped { background: #eeeeee; }
.s-restart-pending, .s-in-progress { background: #fff1c4; }
.s-failed, .s-refused, .s-unconfirmed, .s-plan-altered, .s-plan-unproven, .s-finished-incomplete-plan, .s-not-applicable, .s-test-build { background: #f8d3d0; }
.s-not-run, .s-not-reached { background: #ffffff; }
.payload { border-top: 1px solid #345; margin-top: 14px; padding-top: 4px; }
code { font-family: "Courier New", Courier, monospace; }
pre { font-family: "Courier New", Courier, monospace; font-size: 12px; white-space: pre-wrap; word-wrap: break-word; margin: 4px 0; }
.foot { margin-top: 24px; font-size: 11px; color: #555; }
@media print {
  body { margin: 0; font-size: 10pt; }
  table { font-size: 9pt; }
  th, td { padding: 2px 4px; }
  .payload { page-break-inside: avoid; break-inside: avoid; }
  h1 { font-size: 16pt; }
  h2 { font-size: 13pt; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .s-complete, .s-installed, .s-skipped, .s-restart-pending, .s-in-progress, .s-failed, .s-refused, .s-unconfirmed, .s-plan-altered, .s-plan-unproven, .s-finished-incomplete-plan, .s-not-applicable, .s-test-build, .warn { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .newpage { page-break-before: always; break-before: page; }
  thead { display: table-header-group; }
  tr, .keep { page-break-inside: avoid; break-inside: avoid; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
  .hash, .mono, pre { font-size: 8pt; }
  th.hash { font-size: 9pt; }
}
@page { margin: 14mm 12mm; }
`;

/** A complete, self-contained document: no script, no external resource, ASCII only. */
export function htmlDocument(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta http-equiv="X-UA-Compatible" content="IE=edge">',
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style type="text/css">${STYLESHEET}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A table with a repeated header: `head` are already-escaped header cells, `rows` escaped cells. */
export function table(head: { label: string; width?: string; className?: string }[], rows: string[][], className?: string): string {
  const cols = head.map((h) => (h.width ? `<col style="width:${h.width}">` : '<col>')).join('');
  const th = head.map((h) => `<th scope="col"${h.className ? ` class="${h.className}"` : ''}>${h.label}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${head[i]?.className ? ` class="${head[i].className}"` : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}><colgroup>${cols}</colgroup><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Label/value rows (values already escaped). */
export function factsTable(rows: [string, string][]): string {
  return `<table class="facts"><tbody>\n${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${v}</td></tr>`).join('\n')}\n</tbody></table>`;
}

/** A status word with its colour class (the status values are our own tokens). */
export function statusBadge(status: string, label: string = status): string {
  return `<span class="status s-${escapeHtml(status)}">${escapeHtml(label)}</span>`;
}
