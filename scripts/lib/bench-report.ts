/**
 * What every benchmark script reports: the median, the row each script prints with `--json`,
 * the machine the figures came from, and the one table scripts/bench.ts prints. How the scripts
 * run and measure is scripts/lib/bench-run.
 *
 * A benchmark script run with `--json` prints one BenchReport on stdout and nothing else there;
 * its human lines go to stderr instead (bench-run's humanOutput), so a child's progress stays
 * visible while its parent parses stdout.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One measured quantity over several runs. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  /** every run, in the order it ran */
  values: number[];
}

export function figure(values: readonly number[]): Figure {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values: [...values] };
}

export type Metric = 'wall' | 'cpu' | 'peak-rss';
export type Unit = 'ms' | 'MiB';

/** A goal from the issues: a bound on cabferry's ratio to the reference tool, or on its own figure. */
export interface Goal {
  /** cabferry's median must be at most this (a ratio, or a value in the row's unit) */
  max: number;
  on: 'ratio' | 'value';
  /** where the goal comes from, e.g. "issue #2" */
  source: string;
}

/**
 * One line of the report: cabferry's figure, the reference tool's figure on the same input
 * (null where no outside tool does the job, e.g. planning), their ratio, and the goal.
 */
export interface BenchRow {
  /** stable key, e.g. "decode.cpu" */
  id: string;
  /** what was measured, on what input */
  what: string;
  metric: Metric;
  unit: Unit;
  cabferry: { command: string; figure: Figure };
  reference: { command: string; figure: Figure } | null;
  /** cabferry median / reference median */
  ratio: number | null;
  goal: Goal | null;
  /** whether the median meets the goal; null without a goal */
  met: boolean | null;
  /**
   * the processor the row was measured on: ratios against the same tool differ between CPU
   * families (SHA extensions, cache sizes), so a figure is never quoted without it. Optional only
   * for results files written before rows carried it.
   */
  cpuModel?: string;
  note?: string;
}

export function benchRow(spec: {
  id: string;
  what: string;
  metric: Metric;
  unit: Unit;
  cabferry: { command: string; values: readonly number[] };
  reference?: { command: string; values: readonly number[] } | null;
  goal?: Goal | null;
  note?: string;
}): BenchRow {
  const mine = figure(spec.cabferry.values);
  const reference = spec.reference ? { command: spec.reference.command, figure: figure(spec.reference.values) } : null;
  const ratio = reference && reference.figure.median > 0 ? mine.median / reference.figure.median : null;
  const goal = spec.goal ?? null;
  let met: boolean | null = null;
  if (goal !== null) {
    const measured = goal.on === 'ratio' ? ratio : mine.median;
    met = measured === null ? null : measured <= goal.max;
  }
  return {
    id: spec.id,
    what: spec.what,
    metric: spec.metric,
    unit: spec.unit,
    cabferry: { command: spec.cabferry.command, figure: mine },
    reference,
    ratio,
    goal,
    met,
    cpuModel: cpuModel(),
    ...(spec.note === undefined ? {} : { note: spec.note }),
  };
}

export function cpuModel(): string {
  return os.cpus()[0]?.model.trim().replace(/\s+/g, ' ') ?? 'unknown';
}

/** What one benchmark script prints with --json. */
export interface BenchReport {
  /** the script's name, e.g. "bench-decode" */
  script: string;
  /** the sizes and run counts it used */
  parameters: Record<string, number | string | boolean>;
  /** 1-, 5- and 15-minute load average when the script started measuring */
  loadAverageAtStart: number[];
  rows: BenchRow[];
}

export function printReport(report: BenchReport): void {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryMiB: number;
  loadAverageAtStart: number[];
  os: string;
  versions: { node: string; cabextract: string | null; osslsigncode: string | null; sha256sum: string | null };
}

function firstLineOf(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  // "osslsigncode 2.9, using:" is followed by the OpenSSL lines: keep the tool's own part
  return (r.stdout || r.stderr).split('\n')[0]!.replace(/,? using:$/, '').trim() || null;
}

export function describeMachine(): MachineDescription {
  const cpus = os.cpus();
  return {
    cpuModel: cpuModel(),
    cores: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 1048576),
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    versions: {
      node: process.version,
      cabextract: firstLineOf('cabextract', ['--version']),
      osslsigncode: firstLineOf('osslsigncode', ['--version']),
      sha256sum: firstLineOf('sha256sum', ['--version']),
    },
  };
}

export function describeMachineText(m: MachineDescription): string {
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${(m.memoryMiB / 1024).toFixed(1)} GiB, ${m.os}`,
    `load average at start: ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}`,
    `versions: node ${m.versions.node}; ${m.versions.cabextract ?? 'cabextract missing'}; ${m.versions.osslsigncode ?? 'osslsigncode missing'}; ${m.versions.sha256sum ?? 'sha256sum missing'}`,
  ].join('\n');
}

const METRIC_TEXT: Record<Metric, string> = { wall: 'wall', cpu: 'CPU', 'peak-rss': 'peak RSS' };

export function formatQuantity(raw: number, unit: Unit): string {
  const value = Number(raw.toPrecision(6)); // 99.99999 (0.09 s + 0.01 s) is 100
  if (unit === 'MiB') return `${value.toFixed(value < 10 ? 1 : 0)} MiB`;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${value.toFixed(value < 100 ? 1 : 0)} ms`;
}

export function formatGoal(goal: Goal | null, unit: Unit): string {
  if (goal === null) return '—';
  return goal.on === 'ratio' ? `≤ ${goal.max}× (${goal.source})` : `≤ ${formatQuantity(goal.max, unit)} (${goal.source})`;
}

/** The report table: one line per row, the reference tool beside cabferry, medians with their run count. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['what', 'metric', 'cabferry command', 'cabferry', 'reference tool', 'reference', 'ratio', 'goal', 'met', 'runs', 'CPU'];
  const lines = rows.map((r) => [
    r.what,
    METRIC_TEXT[r.metric],
    r.cabferry.command,
    formatQuantity(r.cabferry.figure.median, r.unit),
    r.reference?.command ?? '(none)',
    r.reference ? formatQuantity(r.reference.figure.median, r.unit) : '—',
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    formatGoal(r.goal, r.unit),
    r.met === null ? '—' : r.met ? 'yes' : 'NO',
    String(r.cabferry.figure.values.length),
    r.cpuModel ?? '(not recorded)',
  ]);
  const all = [header, ...lines];
  const widths = header.map((_, c) => Math.max(...all.map((l) => [...l[c]!].length)));
  const numeric = new Set([3, 5, 6, 9]);
  const pad = (cell: string, c: number): string => {
    const fill = ' '.repeat(widths[c]! - [...cell].length);
    return numeric.has(c) ? fill + cell : cell + fill;
  };
  const text = all.map((l) => l.map(pad).join('  ').trimEnd());
  text.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return text.join('\n');
}

/** The report as a Markdown table for the README: what, cabferry, the reference tool with its figure, ratio, goal, met. */
export function formatMarkdownTable(rows: readonly BenchRow[]): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = ['| what | cabferry | reference tool | ratio | goal | met? | CPU |', '|---|---:|---|---:|---|---|---|'];
  for (const r of rows) {
    const reference = r.reference ? `\`${r.reference.command}\` ${formatQuantity(r.reference.figure.median, r.unit)}` : 'none';
    lines.push(
      `| ${[
        `${r.what}, ${METRIC_TEXT[r.metric]} (\`${r.cabferry.command}\`)`,
        formatQuantity(r.cabferry.figure.median, r.unit),
        reference,
        r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
        formatGoal(r.goal, r.unit),
        r.met === null ? '—' : r.met ? 'yes' : '**no**',
        r.cpuModel ?? '(not recorded)',
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
