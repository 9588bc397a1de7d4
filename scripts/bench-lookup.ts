/**
 * What install.cmd's look-ups of the host's servicing packages cost under Wine's cmd, on a host
 * with many packages (real Server 2008 / Windows 7 hosts list 1,000 to 4,000):
 *
 *   npm run build && flock /tmp/cf-wine.lock node dist/scripts/bench-lookup.js [--packages 3000] [--steps 30] [--runs 3] [--resumed-runs 1] [--json]
 *
 * - one `:host_has` look-up (a step's update, confirmed after its install or re-checked on a resumed run),
 * - one `:cbs_snapshot` (the premise check's single read of every package's state),
 * - a resumed run of a plan of --steps steps that are all done (state.txt says so and the host has
 *   every update): what an operator pays on each run before anything is installed.
 *
 * The two subroutines run in the rendered install.cmd itself, entered through a bench argument
 * (lookupHarness), so it measures the script as staged. Wall times, medians over --runs
 * (the resumed run over --resumed-runs: it can take many minutes); the script's time with
 * nothing called (its set-up) is subtracted from the look-up figures. The packages are
 * written with one `reg import`. Needs Wine (WINE-TESTING.md); other Wine users share the machine,
 * so run it under the Wine lock as above.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { usageError } from '../src/errors';
import { InstallCases, install } from '../test/media/install-cases.helpers';
import { CBS_PACKAGES, hostClock, WinePrefix, winPath } from '../test/media/wine.helpers';
import { benchRow, median, printReport } from './lib/bench-report';
import { countOption, hasCommand, humanOutput, parseBenchOptions, runBenchScript } from './lib/bench-run';

/** the KB of the bench plan's step n (each has a Package_for_ key, installed) */
const stepKb = (n: number) => `KB${3100000 + n}`;

/**
 * A .reg file with `count` package keys under CBS's Packages, named in the forms real hosts have:
 * Package_for_KB…, Package_N_for_KB…, lower-case package_N_for_kb…_server, with a language, a
 * service pack's VistaSP2-KB…, RollupFix versions and foundation packages that carry no KB; states
 * installed, superseded and permanent, a few staged. The plan's `steps` updates are among them.
 */
function packagesRegFile(count: number, steps: number): string {
  const names: [string, number][] = [];
  for (let n = 1; n <= steps; n++) names.push([`Package_for_${stepKb(n)}~31bf3856ad364e35~amd64~~6.0.1.0`, 0x70]);
  const forms = [
    (i: number) => `Package_for_KB${2000000 + i}~31bf3856ad364e35~amd64~~6.0.1.${i % 7}`,
    (i: number) => `Package_${1 + (i % 4)}_for_KB${2000000 + i}~31bf3856ad364e35~amd64~~6.0.1.${i % 5}`,
    (i: number) => `package_${1 + (i % 3)}_for_kb${2000000 + i}_server~31bf3856ad364e35~amd64~~6.0.1.2`,
    (i: number) => `Package_for_KB${2000000 + i}~31bf3856ad364e35~amd64~en-US~6.0.1.0`,
    (i: number) => `Package_for_RollupFix~31bf3856ad364e35~amd64~~6.0.1.${i}`,
    (i: number) => `Microsoft-Windows-Foundation-Package-${i}~31bf3856ad364e35~amd64~~6.0.6001.18000`,
  ];
  const states = [0x70, 0x70, 0x50, 0x70, 0x80, 0x70, 0x50, 0x40];
  names.push(['VistaSP2-KB948465~31bf3856ad364e35~amd64~~6.0.2.6002', 0x70]);
  for (let i = 0; names.length < count; i++) {
    // mostly the _for_ form, as on real hosts; every 10th of the others
    const form = i % 10 < 6 ? 0 : (i % 10) - 5;
    names.push([forms[form]!(i), states[i % states.length]!]);
  }
  const lines = ['Windows Registry Editor Version 5.00', ''];
  const key = CBS_PACKAGES.replace(/^HKLM\\/, 'HKEY_LOCAL_MACHINE\\');
  for (const [name, state] of names) lines.push(`[${key}\\${name}]`, `"CurrentState"=dword:${state.toString(16).padStart(8, '0')}`, '');
  return lines.join('\r\n') + '\r\n';
}

/**
 * The rendered install.cmd with three ways in for the bench, before it reads its arguments:
 * `install.cmd /bench none` (its set-up alone), `/bench host_has KB` and `/bench snapshot` run one
 * look-up and print what it found. Nothing else moves: Wine's cmd finds a called label by reading
 * the script's lines, so what a call costs may depend on where the labels stand in the whole script.
 * (Under Wine the same look-up has measured anywhere from 5 s to 100 s between runs on one
 * machine, with the CPUs mostly idle: compare builds in runs close together, alternating.)
 */
function lookupHarness(installCmd: string): string {
  const lines = installCmd.split('\r\n');
  const args = lines.indexOf(':args');
  if (args < 0) throw new Error('install.cmd has no :args label');
  return [
    ...lines.slice(0, args),
    'if not "%~1"=="/bench" goto :args',
    'if "%~2"=="host_has" call :host_has %3',
    'if "%~2"=="snapshot" call :cbs_snapshot',
    'echo look-up %2 present=!CF_PRESENT! how=!CF_HOW! snapshot-states=!CF_SNAP_N! snapshot-ok=!CF_SNAP_OK!',
    'exit /b 0',
    ...lines.slice(args),
  ].join('\r\n');
}

function main(): void {
  const options = parseBenchOptions({ numbers: { packages: countOption(3000), steps: countOption(30), runs: countOption(3), 'resumed-runs': { default: 1, min: 0, integer: true } } });
  const { packages, steps, runs } = options.numbers;
  const resumedRuns = options.numbers['resumed-runs'];
  if (!hasCommand('wine')) throw usageError('BENCH_USAGE', 'wine is not installed (apt-get install wine wine64; see WINE-TESTING.md)');
  const say = humanOutput(options.json);
  const loadAverageAtStart = os.loadavg();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-bench-lookup-'));
  const wine = new WinePrefix(work);
  try {
    wine.init();
    const cases = new InstallCases(path.join(work, 'cases'), wine);
    const plan = Array.from({ length: steps }, (_, i) => install(i + 1, stepKb(i + 1), `Windows6.0-${stepKb(i + 1)}-x64.msu`));
    // (make() clears the prefix's packages: they are imported after it)
    const c = cases.make(plan);
    const regFile = path.join(work, 'packages.reg');
    fs.writeFileSync(regFile, packagesRegFile(packages, steps));
    const imported = wine.run(['reg', 'import', winPath(regFile)]);
    if (imported.status !== 0) throw new Error(`reg import failed: ${imported.stdout}${imported.stderr}`);
    say(`${packages} packages under CBS Packages, a plan of ${steps} steps; ${runs} run(s) each; wall times`);

    const harness = path.join(c.hostDir, 'bench.cmd');
    // beside install.cmd, as install.cmd (its set-up reads the folder it is in)
    fs.writeFileSync(harness, lookupHarness(fs.readFileSync(path.join(c.hostDir, 'install.cmd'), 'latin1')));
    const timed = (args: string[], check: (stdout: string) => void): number => {
      const t = process.hrtime.bigint();
      const r = wine.run(['cmd', '/c', winPath(harness), ...args]);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (r.status !== 0) throw new Error(`harness ${args.join(' ')}: exit ${r.status}: ${r.stdout}${r.stderr}`);
      check(r.stdout);
      return ms;
    };
    const lookupKb = stepKb(Math.ceil(steps / 2));
    const measured = { none: [] as number[], hostHas: [] as number[], snapshot: [] as number[], resumed: [] as number[] };
    for (let r = 1; r <= runs; r++) {
      measured.none.push(timed(['/bench', 'none'], () => {}));
      measured.hostHas.push(timed(['/bench', 'host_has', lookupKb], (out) => {
        if (!/present=present how=cbs/.test(out)) throw new Error(`:host_has ${lookupKb} did not find it installed: ${out}`);
      }));
      measured.snapshot.push(timed(['/bench', 'snapshot'], (out) => {
        if (!new RegExp(`snapshot-states=${packages}\\b`).test(out)) throw new Error(`:cbs_snapshot did not read ${packages} package states: ${out}`);
      }));
      say(`run ${r}: set-up alone ${measured.none.at(-1)!.toFixed(0)} ms, :host_has ${measured.hostHas.at(-1)!.toFixed(0)} ms, :cbs_snapshot ${measured.snapshot.at(-1)!.toFixed(0)} ms`);
    }
    // the resumed run: every step done, as the run that installed them left state.txt
    fs.mkdirSync(path.dirname(c.statePath), { recursive: true });
    for (let r = 1; r <= resumedRuns; r++) {
      fs.writeFileSync(c.statePath, plan.map((s) => `attempt ${s.n}\r\ndone ${s.n} 0 yes\r\n`).join(''));
      fs.rmSync(c.resultLog, { force: true });
      const t = process.hrtime.bigint();
      const run = wine.runScript(path.join(c.hostDir, 'install.cmd'), c.resultLog, [], { ...c.stubs.env(), ...hostClock(1) }, { timeoutMs: 3_600_000 });
      measured.resumed.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (run.status !== 0 || c.stubs.installed().length !== 0) throw new Error(`the resumed run did not end complete without installing: exit ${run.status}, installed ${c.stubs.installed().join(' ')}\n${run.stdout}`);
      say(`run ${r}: resumed run of ${steps} done steps ${(measured.resumed.at(-1)! / 1000).toFixed(1)} s`);
    }
    const base = median(measured.none);
    const net = (xs: number[]) => xs.map((x) => Math.max(0, x - base));
    say(`median: set-up alone ${base.toFixed(0)} ms; :host_has ${median(net(measured.hostHas)).toFixed(0)} ms; :cbs_snapshot ${median(net(measured.snapshot)).toFixed(0)} ms${measured.resumed.length > 0 ? `; resumed run ${(median(measured.resumed) / 1000).toFixed(1)} s` : ''}`);
    if (options.json) {
      const note = `Wine ${wine.run(['--version']).stdout.trim()} cmd, ${packages} packages; look-ups net of the set-up alone (${base.toFixed(0)} ms)`;
      printReport({
        script: 'bench-lookup',
        parameters: { packages, steps, runs, resumedRuns },
        loadAverageAtStart,
        rows: [
          benchRow({ id: 'lookup.host-has.wall', what: `one :host_has look-up, ${packages} packages`, metric: 'wall', unit: 'ms', cabferry: { command: 'install.cmd :host_has', values: net(measured.hostHas) }, note }),
          benchRow({ id: 'lookup.snapshot.wall', what: `one :cbs_snapshot, ${packages} packages`, metric: 'wall', unit: 'ms', cabferry: { command: 'install.cmd :cbs_snapshot', values: net(measured.snapshot) }, note }),
          ...(measured.resumed.length === 0 ? [] : [benchRow({ id: 'lookup.resumed-run.wall', what: `a resumed run of ${steps} done steps, ${packages} packages`, metric: 'wall', unit: 'ms', cabferry: { command: 'install.cmd', values: measured.resumed }, note })]),
        ],
      });
    }
  } finally {
    wine.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runBenchScript('bench-lookup', main);
