import path = require('node:path');
import { describeIoError, internalError } from '../../errors';
import { writeFileAtomic } from '../files';
import type { SignatureVerdict } from '../media-integrity';
import { completeForLess, completeForLessText, completeQualifier, fleetVerdictText, hostReasonText, type HostReport, type HostStatus, type MediaReport, type PlanResults, type StepReport, type StepStatus } from '../report';
import { escapeHtml, textOr } from './escape';
import { factsTable, htmlDocument, statusBadge, table } from './page';

/**
 * The fleet page (`cabferry report DIR --html FILE`): what the hosts wrote back on the medium,
 * held against the plans staged on it. Built only from reportMedia()'s data; a host or step the
 * report does not call installed is never shown as installed.
 */

export interface FleetPageOptions {
  /** when the page was written */
  generatedAt: string;
  cabferryVersion: string;
}

/** How the page groups hosts; every HostStatus falls in exactly one group. */
const GROUPS: { label: string; statuses: HostStatus[] }[] = [
  { label: 'Complete', statuses: ['complete'] },
  { label: 'Finished, not complete', statuses: ['finished-incomplete-plan', 'not-applicable', 'plan-unproven'] },
  { label: 'Waiting for a restart', statuses: ['restart-pending'] },
  { label: 'Failed or refused', statuses: ['failed', 'refused', 'unconfirmed', 'plan-altered', 'test-build'] },
  { label: 'Started, not finished', statuses: ['in-progress'] },
  { label: 'Not started', statuses: ['not-run'] },
];

const HOST_STATUS_TEXT: Record<HostStatus, string> = {
  complete: 'complete',
  'finished-incomplete-plan': 'every step done, but the plan was staged INCOMPLETE: the host is not current',
  'not-applicable': 'an installer said a planned update does not apply: the host does not have it',
  'restart-pending': 'waiting for a restart',
  failed: 'failed',
  refused: 'refused to run',
  'in-progress': 'started, not finished',
  'not-run': 'not started',
  unconfirmed: 'installers reported success the host does not confirm',
  'plan-altered': 'plan on the medium is not the staged one',
  'test-build': 'results of a TEST BUILD script: they prove nothing about a real host',
  'plan-unproven': 'every step done, but the medium does NOT PROVE its plan: not known to be complete',
};

/** What install.cmd found on the host after the installer (the result log's confirmed=). */
const CONFIRMED_TEXT: Record<NonNullable<StepReport['confirmed']>, string> = {
  yes: 'confirmed',
  pending: 'pending a restart',
  no: 'NOT found',
  'n/a': 'n/a',
};

const STEP_STATUS_TEXT: Record<StepStatus, string> = {
  installed: 'installed',
  skipped: 'skipped',
  failed: 'failed',
  'restart-pending': 'waiting for a restart',
  'not-reached': 'not reached',
  unconfirmed: 'not found on the host',
};

/** Chart colours per step status, in the order the bars stack. */
const CHART: { status: StepStatus; colour: string }[] = [
  { status: 'installed', colour: '#2e7d32' },
  { status: 'skipped', colour: '#90a4ae' },
  { status: 'restart-pending', colour: '#f9a825' },
  { status: 'failed', colour: '#c62828' },
  { status: 'unconfirmed', colour: '#ad1457' },
  { status: 'not-reached', colour: '#e0e0e0' },
];

export function renderFleetPage(report: MediaReport, options: FleetPageOptions): string {
  const body = [
    '<h1>cabferry fleet report</h1>',
    ...(report.integrity.proven ? [] : [`<p class="warn">${escapeHtml(unprovenText(report.integrity))}</p>`]),
    factsTable([
      ['Medium', escapeHtml(report.dir)],
      ['Written', escapeHtml(options.generatedAt)],
      ['Plans', plansText(report.integrity)],
      ['Hosts', String(report.hosts.length)],
      ['Verdict', verdictText(report)],
    ]),
    '<h2>Fleet</h2>',
    groupsTable(report.hosts),
    progressChart(report.hosts),
    ...report.hosts.map(hostSection),
    `<p class="foot">Written by cabferry ${escapeHtml(options.cabferryVersion)} from the result logs under results\\ on the medium and the plans under hosts\\. A step counts as installed only when its host logged an installer result that means installed and install.cmd found the update on the host.</p>`,
  ].join('\n');
  return htmlDocument(`cabferry fleet report: ${report.hosts.length} host(s)`, body);
}

/** The integrity verdict first: every host's state below is measured against the plans it vouches for. */
function unprovenText(i: SignatureVerdict): string {
  return `PLANS NOT PROVEN: ${i.reason ?? i.status}. The plan files on this medium may not be the ones staged, so no host's results can be measured against its plan, and no host is called complete.`;
}

/** Whether the plans the results are held against are the staged ones, and why (the manifest's signature). */
function plansText(i: SignatureVerdict): string {
  if (!i.proven) return `<span class="bad">NOT PROVEN</span>: ${escapeHtml(i.reason ?? i.status)}`;
  if (i.status === 'valid') return `<span class="ok">proven</span>: the manifest's signature verifies${i.signer ? `, signed by ${escapeHtml(i.signer)}` : ''}`;
  return `accepted unproven: ${escapeHtml(i.reason ?? i.status)}`;
}

function verdictText(report: MediaReport): string {
  return `<span class="${report.allCurrent ? 'ok' : 'bad'}">${escapeHtml(fleetVerdictText(report))}</span>`;
}

function groupsTable(hosts: HostReport[]): string {
  return table(
    [{ label: 'State', width: '28%' }, { label: 'Hosts', width: '8%', className: 'num' }, { label: 'Which', width: '64%' }],
    GROUPS.map((g) => {
      const members = hosts.filter((h) => g.statuses.includes(h.status));
      return [escapeHtml(g.label), String(members.length), members.length === 0 ? '<span class="muted">-</span>' : members.map(memberText).join(', ')];
    }),
    'groups',
  );
}

/** A host in the groups table: a complete host that is not known current says for what it is complete. */
function memberText(h: HostReport): string {
  if (!completeForLess(h)) return escapeHtml(h.host);
  return `${escapeHtml(h.host)} <span class="bad">(${escapeHtml(completeForLessText(h.goal))})</span>`;
}

/**
 * One stacked bar per host, a segment per step status, the full width being that host's plan.
 * Inline SVG (no script, no external file); the same numbers are in the tables below it for
 * browsers without SVG.
 */
function progressChart(hosts: HostReport[]): string {
  if (hosts.length === 0) return '<p>No host was staged on this medium.</p>';
  const rowHeight = 22;
  const labelWidth = 170;
  const barWidth = 420;
  const countWidth = 110;
  const width = labelWidth + barWidth + countWidth;
  // the legend wraps onto as many rows as the chart's width needs: an item past the edge would be cut off
  const legend = legendLayout(labelWidth, width);
  const legendHeight = 24 * legend.rows;
  const height = hosts.length * rowHeight + legendHeight + 4;
  const parts: string[] = [];
  hosts.forEach((h, i) => {
    const y = i * rowHeight + 2;
    const total = h.steps.length;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end" font-size="12">${escapeHtml(truncate(h.host, 24))}</text>`);
    parts.push(`<rect x="${labelWidth}" y="${y}" width="${barWidth}" height="${rowHeight - 6}" fill="#ffffff" stroke="#999999"/>`);
    let x = labelWidth;
    for (const seg of CHART) {
      const n = h.counts[seg.status];
      if (n === 0 || total === 0) continue;
      const w = (barWidth * n) / total;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${seg.colour}" stroke="#ffffff" stroke-width="0.5"><title>${escapeHtml(h.host)}: ${n} ${STEP_STATUS_TEXT[seg.status]}</title></rect>`);
      x += w;
    }
    const done = h.counts.installed + h.counts.skipped;
    parts.push(`<text x="${labelWidth + barWidth + 8}" y="${y + 14}" font-size="12">${done}/${total} done</text>`);
  });
  const top = hosts.length * rowHeight + 8;
  for (const item of legend.items) {
    const ly = top + item.row * 24;
    parts.push(`<rect x="${item.x}" y="${ly}" width="12" height="12" fill="${item.colour}" stroke="#999999"/><text x="${item.x + 16}" y="${ly + 11}" font-size="11">${item.label}</text>`);
  }
  const summary = hosts.map((h) => `${h.host}: ${h.counts.installed + h.counts.skipped} of ${h.steps.length} steps done`).join('; ');
  return `<div class="keep"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`Progress per host: ${summary}`)}" font-family="Arial, Helvetica, sans-serif">${parts.join('')}</svg></div>`;
}

/** Where each legend item of the chart goes: left to right from `left`, a new row when the next would pass `width`. */
function legendLayout(left: number, width: number): { rows: number; items: { x: number; row: number; colour: string; label: string }[] } {
  const items: { x: number; row: number; colour: string; label: string }[] = [];
  let x = left;
  let row = 0;
  for (const seg of CHART) {
    const label = STEP_STATUS_TEXT[seg.status];
    // 11px Arial averages under 6px a character; swatch and gap around it
    const itemWidth = 16 + label.length * 6 + 14;
    if (x > left && x + itemWidth - 14 > width) {
      x = left;
      row += 1;
    }
    items.push({ x, row, colour: seg.colour, label });
    x += itemWidth;
  }
  return { rows: row + 1, items };
}

function hostSection(h: HostReport): string {
  const c = h.counts;
  const out: string[] = [];
  out.push(`<div class="newpage host" id="host-${escapeHtml(h.host)}">`);
  out.push(`<h2>Host ${escapeHtml(h.host)} ${statusBadge(h.status, HOST_STATUS_TEXT[h.status])}</h2>`);
  out.push(factsTable([
    ['State', `${escapeHtml(HOST_STATUS_TEXT[h.status])}${escapeHtml(completeQualifier(h))}${h.reason ? `: ${escapeHtml(hostReasonText(h.reason))}` : ''}`],
    ['Plan', h.planId === null ? '<span class="muted">unknown</span>' : `<span class="hash">${escapeHtml(h.planId)}</span>`],
    ['Steps', `${c.installed} installed, ${c.skipped} skipped, ${c.failed} failed, ${c['restart-pending']} waiting for a restart, ${c.unconfirmed} not found on the host, ${c['not-reached']} not reached (of ${h.steps.length})`],
    ['Runs of install.cmd', `${h.runs}${h.lastRun ? `, last started ${escapeHtml(h.lastRun)}` : ''}`],
    ...(h.testBuild ? [['Script', '<span class="bad">TEST BUILD</span> (staged with --test-build: these results prove nothing about a real host)'] as [string, string]] : []),
    ...(h.unreadableLines > 0 ? [['Unreadable log lines', `<span class="bad">${h.unreadableLines}</span> (not counted as progress)`] as [string, string]] : []),
    ...(h.unmatchedLines > 0 ? [['Lines of no staged step', `<span class="bad">${h.unmatchedLines}</span> (another plan id or another host, or a step, KB or action this plan does not have: not counted)`] as [string, string]] : []),
  ]));
  if (h.steps.length === 0) out.push('<p>The plan for this host has no steps.</p>');
  else {
    out.push(table(
      [{ label: '#', width: '4%', className: 'num' }, { label: 'Step', width: '24%' }, { label: 'Result', width: '12%' }, { label: 'On the host', width: '11%' }, { label: 'Code', width: '12%' }, { label: 'Meaning', width: '24%' }, { label: 'Time', width: '13%' }],
      h.steps.map(stepRow),
      'steps',
    ));
  }
  if (h.history.length > 0) out.push(historyTable(h.history));
  out.push('</div>');
  return out.join('\n');
}

function stepRow(s: StepReport): string[] {
  const what = s.action === 'reboot' ? 'restart' : `${textOr(s.kb, '')} <span class="mono">${textOr(s.file, '')}</span>`;
  const code = s.code === null ? '<span class="muted">-</span>' : `${s.code}<br><span class="mono">${textOr(s.codeHex, '')}</span>`;
  const meaning = s.meaning === null ? '<span class="muted">no result logged</span>' : `${textOr(s.explanation, '')}<br><span class="mono muted">${escapeHtml(s.meaning)}</span>`;
  const onHost = s.confirmed === null ? '<span class="muted">-</span>' : s.confirmed === 'no' ? `<span class="bad">${CONFIRMED_TEXT.no}</span>` : escapeHtml(CONFIRMED_TEXT[s.confirmed]);
  return [String(s.n), what, statusBadge(s.status, stepStatusText(s)), onHost, code, meaning, textOr(s.time, '<span class="muted">-</span>')];
}

/** Results on the medium of plans other than the staged one: history, never progress. */
function historyTable(history: PlanResults[]): string {
  return [
    '<h3>Earlier plans on this medium (history, not counted for the plan above)</h3>',
    table(
      [{ label: 'Plan', width: '30%' }, { label: 'Runs', width: '7%', className: 'num' }, { label: 'Last run', width: '17%' }, { label: 'Found on the host then', width: '26%' }, { label: 'Result log', width: '20%' }],
      history.map((p) => [
        p.planId === null ? '<span class="muted">no plan id (older cabferry)</span>' : `<span class="hash">${escapeHtml(p.planId)}</span>`,
        String(p.runs),
        textOr(p.lastRun, '<span class="muted">-</span>'),
        p.confirmedInstalled.length === 0 ? '<span class="muted">none</span>' : escapeHtml(p.confirmedInstalled.join(', ')),
        `<span class="hash">${escapeHtml(p.path)}</span> (${p.results} result line(s))`,
      ]),
      'history',
    ),
  ].join('\n');
}

/** A restart step the host logged as done reads "restarted", not "installed". */
export function stepStatusText(s: Pick<StepReport, 'action' | 'status'>): string {
  return s.action === 'reboot' && s.status === 'installed' ? 'restarted' : STEP_STATUS_TEXT[s.status];
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}~`;
}

/** Render the fleet page and write it to `file` (temp + rename); a write failure is a storage error naming the file. */
export function writeFleetPage(file: string, report: MediaReport, options: FleetPageOptions): { file: string; bytes: number } {
  const html = renderFleetPage(report, options);
  try {
    const written = writeFileAtomic(path.resolve(file), html);
    return { file: path.resolve(file), bytes: written.size };
  } catch (e) {
    throw internalError('REPORT_HTML_WRITE', `cannot write the fleet page: ${describeIoError(e)}`, { file, cause: e });
  }
}
