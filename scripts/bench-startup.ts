/**
 * Benchmark: what a cabferry command costs before it does any work — `cabferry --version`, and
 * `cabferry verify` of a small signed file — against a bare `node -e 0` on the same machine.
 *
 *   npx tsc -p . && node dist/scripts/bench-startup.js [--runs 20] [--json]
 *
 * Start-up is the whole cost of the many small commands an operator runs (verify one update,
 * plan one host), so it is measured apart from the throughput benchmarks. The three commands
 * run in turn `runs` times; medians of wall and CPU time. Goal (issue #18): both ≤ 1.5× node.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchRow, median, printReport, type BenchRow } from './lib/bench-report';
import { cliPath, countOption, envWithoutExtraCaCerts, fixturesDir, GNU_TIME, parseBenchOptions, requireCommands, runBenchScript, timeChild, timeInterleaved, type ChildRun } from './lib/bench-run';

const TOOLS = ['node -e 0', 'cabferry --version', 'cabferry verify (small)'] as const;
/** The same, where the environment names NODE_EXTRA_CA_CERTS, without it (see envWithoutExtraCaCerts). */
const BARE_TOOLS = ['node -e 0, no NODE_EXTRA_CA_CERTS', 'cabferry verify (small), no NODE_EXTRA_CA_CERTS'] as const;
type Tool = (typeof TOOLS)[number] | (typeof BARE_TOOLS)[number];

/** A small fixture signed as Microsoft signs (SHA-1 primary + nested SHA-256): verifying it is nearly all start-up. */
function smallSignedFile(): { file: string; root: string } {
  const file = path.join(fixturesDir, 'signed', 'dual-microsoft-style.cab');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing (run npm run fixtures)`);
  return { file, root: path.join(fixturesDir, 'pki', 'root.pem') };
}

function main(): void {
  const options = parseBenchOptions({ numbers: { runs: countOption(20) } });
  const { runs } = options.numbers;
  const out = options.json ? process.stderr : process.stdout;
  requireCommands([GNU_TIME]);
  const loadAverageAtStart = os.loadavg();
  const small = smallSignedFile();
  const bareEnv = envWithoutExtraCaCerts() ?? undefined;
  const run: Record<Tool, () => ChildRun> = {
    'node -e 0': () => timeChild(process.execPath, ['-e', '0']),
    'cabferry --version': () => timeChild(process.execPath, [cliPath, '--version']),
    'cabferry verify (small)': () => timeChild(process.execPath, [cliPath, 'verify', small.file, '--trust', small.root]),
    'node -e 0, no NODE_EXTRA_CA_CERTS': () => timeChild(process.execPath, ['-e', '0'], { env: bareEnv }),
    'cabferry verify (small), no NODE_EXTRA_CA_CERTS': () => timeChild(process.execPath, [cliPath, 'verify', small.file, '--trust', small.root], { env: bareEnv }),
  };
  const tools: readonly Tool[] = bareEnv === undefined ? TOOLS : [...TOOLS, ...BARE_TOOLS];
  for (const tool of tools) run[tool](); // warm-up: page cache, and proof that each command succeeds
  const measured = timeInterleaved(tools.map((t) => run[t]), runs);
  const times = Object.fromEntries(tools.map((t, k) => [t, measured[k]!])) as Record<Tool, ChildRun[]>;
  const wall = (t: Tool) => median(times[t].map((r) => r.wallMs));
  const cpu = (t: Tool) => median(times[t].map((r) => r.cpuMs));
  out.write(`small file: ${path.basename(small.file)} (${fs.statSync(small.file).size} bytes), ${runs} runs each, load average ${os.loadavg()[0]!.toFixed(1)}\n`);
  for (const t of tools) {
    const node = (BARE_TOOLS as readonly Tool[]).includes(t) ? BARE_TOOLS[0] : 'node -e 0';
    out.write(`${t.padEnd(48)} wall ${wall(t).toFixed(0).padStart(4)} ms (${(wall(t) / wall(node)).toFixed(2)}× node)  cpu ${cpu(t).toFixed(0).padStart(4)} ms\n`);
  }
  if (options.json) {
    const rows: BenchRow[] = [];
    const reference = (metric: 'wallMs' | 'cpuMs') => ({ command: 'node -e 0', values: times['node -e 0'].map((r) => r[metric]) });
    for (const t of ['cabferry --version', 'cabferry verify (small)'] as const) {
      const id = t === 'cabferry --version' ? 'startup.version' : 'startup.verify';
      const what = t === 'cabferry --version' ? 'start-up: print the version' : `start-up: verify a ${fs.statSync(small.file).size}-byte signed file`;
      rows.push(
        benchRow({ id: `${id}.wall`, what, metric: 'wall', unit: 'ms', cabferry: { command: t, values: times[t].map((r) => r.wallMs) }, reference: reference('wallMs'), goal: { max: 1.5, on: 'ratio', source: 'issue #18' } }),
        benchRow({ id: `${id}.cpu`, what, metric: 'cpu', unit: 'ms', cabferry: { command: t, values: times[t].map((r) => r.cpuMs) }, reference: reference('cpuMs') }),
      );
    }
    if (bareEnv !== undefined) {
      const bare = BARE_TOOLS[1];
      const what = `start-up: verify a ${fs.statSync(small.file).size}-byte signed file, NODE_EXTRA_CA_CERTS unset`;
      const note = "informational: this machine's environment names a CA bundle that every node process parses at start (see envWithoutExtraCaCerts); the goal rows keep it";
      const bareReference = (metric: 'wallMs' | 'cpuMs') => ({ command: BARE_TOOLS[0], values: times[BARE_TOOLS[0]].map((r) => r[metric]) });
      rows.push(
        benchRow({ id: 'startup.verify-no-extra-ca.wall', what, metric: 'wall', unit: 'ms', cabferry: { command: bare, values: times[bare].map((r) => r.wallMs) }, reference: bareReference('wallMs'), note }),
        benchRow({ id: 'startup.verify-no-extra-ca.cpu', what, metric: 'cpu', unit: 'ms', cabferry: { command: bare, values: times[bare].map((r) => r.cpuMs) }, reference: bareReference('cpuMs'), note }),
      );
    }
    printReport({ script: 'bench-startup', parameters: { runs }, loadAverageAtStart, rows });
  }
}

runBenchScript('bench-startup', main);
