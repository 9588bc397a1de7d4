import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { hasTool } from '../common.helpers';
import { HASH_SELFTEST_SHA256 } from '../../src/media/install-script';
import { parseResultLog } from '../../src/media/result-log';

/**
 * Running install.cmd under Wine's cmd (see ../shared/spec/WINE-TESTING.md), with stub programs:
 * installers that log their call and exit with the code a control file gives for the payload, a
 * hasher that prints the SHA-256 node computed for each file (Wine's certutil prints nothing),
 * and schtasks/shutdown that only log. One prefix per test file, reporting Windows Server 2008,
 * each a copy of one template (prefixTemplate).
 */

/** where Windows (and Wine's registry) keeps the servicing packages install.cmd asks about */
export const CBS_PACKAGES = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages';

/** the name of an update's servicing package on the test host, as addPackage and the stub installers register it */
export const packageName = (kb: string): string => `Package_for_${kb}~31bf3856ad364e35~amd64~~6.0.1.0`;

/**
 * What wmic tells install.cmd of the clock in the host's n-th boot, through the --test-build hooks
 * (CABFERRY_BOOTTIME for LastBootUpTime, CABFERRY_NOW for LocalDateTime; 14 digits each): boot n
 * starts at n o'clock on 2026-11-23 and the script runs half an hour into it. The clock proves no
 * restart: a changed boot time only shows it is not the same boot. A restart is proven by the
 * ShutdownTime Windows writes at a clean one: WinePrefix.boot(n) writes that too.
 */
export function hostClock(boot: number): { CABFERRY_BOOTTIME: string; CABFERRY_NOW: string } {
  assert.ok(Number.isInteger(boot) && boot >= 0 && boot <= 23, `boot ${boot}: one a day, at 0 to 23 o'clock`);
  const hour = String(boot).padStart(2, '0');
  return { CABFERRY_BOOTTIME: `20261123${hour}0000`, CABFERRY_NOW: `20261123${hour}3000` };
}

/** where Windows records when it last shut down cleanly (ShutdownTime, REG_BINARY, a FILETIME) */
export const SHUTDOWN_TIME_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Windows';

/**
 * ShutdownTime as reg prints it (16 hex digits: the FILETIME's 8 bytes, least significant first) for
 * the clean restart that ended boot n - 1: 30 seconds before boot n starts (hostClock).
 */
export function shutdownTimeHex(boot: number): string {
  const ms = Date.UTC(2026, 10, 23, boot, 0, 0) - 30_000;
  const filetime = (BigInt(ms) + 11_644_473_600_000n) * 10_000n;
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(filetime);
  return bytes.toString('hex').toUpperCase();
}

/** the name of a monthly rollup's servicing package, which carries no KB */
export const rollupFixPackageName = (version: string): string => `Package_for_RollupFix~31bf3856ad364e35~amd64~~${version}`;

/**
 * A stand-in for wmic where install.cmd asks it for the hotfix list (`wmic qfe …`; Wine's wmic has
 * no qfe alias): a .cmd in `dir` that prints wmic's header and then `kbs`, whatever it is asked
 * (install.cmd compares each line with the KB it looks for). Returns the --test-build variable that
 * points install.cmd at it. `dir` must have no space in its path: install.cmd runs the program
 * unquoted inside for /f, as it runs the real wmic under %SystemRoot%, which it requires without one.
 */
export function hotfixListStub(dir: string, kbs: string[]): { CABFERRY_WMIC_QFE: string } {
  assert.ok(!winPath(dir).includes(' '), `${dir}: no space allowed`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'wmic-qfe.cmd');
  fs.writeFileSync(file, ['@echo off', 'echo HotFixID', ...kbs.map((kb) => `echo ${kb}`), 'exit /b 0'].join('\r\n') + '\r\n');
  return { CABFERRY_WMIC_QFE: winPath(file) };
}

/**
 * A stand-in for wmic where install.cmd asks it for ESU licences (`wmic path SoftwareLicensingProduct
 * … get LicenseStatus`, with or without /value; Wine's wmic answers neither): a .cmd in `dir` that
 * answers every query with one licence of LicenseStatus `status`, in wmic's table form. With
 * `noStyleSheets`, the /value form prints what wmic prints on a host whose regional format's language
 * folder under wbem has no style sheets ("Invalid XSL format (or) file name.") and nothing else;
 * without it, the /value form answers "LicenseStatus=N". Returns the --test-build variable that points
 * install.cmd at it (`dir` without a space, as for hotfixListStub).
 */
export function licenceWmicStub(dir: string, status: number, noStyleSheets: boolean): { CABFERRY_WMIC_LICENCE: string } {
  assert.ok(!winPath(dir).includes(' '), `${dir}: no space allowed`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'wmic-licence.cmd');
  fs.writeFileSync(file, [
    '@echo off',
    ':args',
    'if "%~1"=="" goto :table',
    'if /i "%~1"=="/value" goto :value',
    'shift',
    'goto :args',
    ':value',
    noStyleSheets ? 'echo Invalid XSL format (or) file name.' : `echo LicenseStatus=${status}`,
    'exit /b 0',
    ':table',
    'echo LicenseStatus  ',
    `echo ${status}              `,
    'echo.',
    'exit /b 0',
  ].join('\r\n') + '\r\n');
  return { CABFERRY_WMIC_LICENCE: winPath(file) };
}

export const wineSkip: string | false = hasTool('wine') ? false : 'wine is not installed (apt-get install wine wine64)';

export function winPath(p: string): string {
  return 'Z:' + path.resolve(p).replace(/\//g, '\\');
}

export interface WineResult { status: number; stdout: string; stderr: string }

/** what every Wine program and wineserver of a prefix runs with */
const wineEnv = (prefix: string): NodeJS.ProcessEnv => ({ ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' });

/**
 * A prefix set to Windows Server 2008 (`winecfg -v win2008`), made once per Wine version and user
 * under the system's temp folder and kept there: every WinePrefix starts as a copy of it
 * (copyPrefix). Wine makes a prefix by copying some 690 MB of its program files into it, about 5 s
 * on the 2-core EPYC, and npm test makes sixteen. It is made under a name of its own and renamed
 * into place once its wineserver has written the registry out and exited, so a template that
 * exists is whole; two test files making it at once each make one, and the second rename loses.
 */
function prefixTemplate(): string {
  const version = spawnSync('wine', ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/[^A-Za-z0-9.-]/g, '_');
  const template = path.join(os.tmpdir(), `cabferry-wine-prefix-${process.getuid?.() ?? 'user'}-${version}`);
  if (fs.existsSync(template)) return template;
  const making = fs.mkdtempSync(`${template}.making-`);
  try {
    const maker = new WinePrefix(making);
    const cfg = maker.run(['winecfg', '-v', 'win2008']);
    assert.equal(cfg.status, 0, cfg.stderr);
    // -w: until the server exits, which writes the registry (the version setting is in it) to the prefix
    spawnSync('wineserver', ['-w'], { env: wineEnv(maker.prefix), stdio: 'ignore' });
    try {
      fs.renameSync(maker.prefix, template);
    } catch (e) {
      if (!fs.existsSync(template)) throw e; // else another test file made it first: theirs is as good
    }
  } finally {
    fs.rmSync(making, { recursive: true, force: true });
  }
  return template;
}

/**
 * Wine's program files, which neither Wine nor any test writes once the prefix is made: `copyPrefix`
 * links them instead of copying (690 MB each time otherwise). Everything else is copied, the
 * registry above all, which every prefix changes.
 */
const NEVER_WRITTEN = /\.(dll|exe|sys|drv|ocx|cpl|acm|ax|tlb|ds|nls|msstyles|com|icm)$/i;

function copyPrefix(template: string, to: string): void {
  const entries = fs.readdirSync(template, { recursive: true, withFileTypes: true }).map((entry) => {
    const from = path.join(entry.parentPath, entry.name);
    return { entry, from, target: path.join(to, path.relative(template, from)) };
  });
  fs.mkdirSync(to, { recursive: true });
  for (const { entry, target } of entries) if (entry.isDirectory()) fs.mkdirSync(target, { recursive: true });
  for (const { entry, from, target } of entries) {
    if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), target);
    else if (entry.isFile()) {
      if (NEVER_WRITTEN.test(entry.name)) {
        try {
          fs.linkSync(from, target);
          continue;
        } catch {
          // another file system than the temp folder's: copied like the rest
        }
      }
      fs.copyFileSync(from, target);
    }
  }
}

/** what WinePrefix.run bounds a command by: the size of each file it writes, its time */
export interface WineLimits { fileSizeBytes?: number; timeoutMs?: number }

/**
 * what start.exe prints, and nothing else, when it could not start the program `wine` was given
 * (Wine's programs/start: its message, then "ShellExecuteEx failed: " and the error's text)
 */
/**
 * `attempt` once, and up to twice more while `neverRan` finds in its result that the program never
 * ran a line (then it says why, for stderr): only such a run is tried again, so nothing the program
 * would have done is hidden.
 */
function whileNeverRan(attempt: () => WineResult, neverRan: (r: WineResult) => string | null): WineResult {
  for (let n = 1; ; n++) {
    const r = attempt();
    const why = n < 3 ? neverRan(r) : null;
    if (why === null) return r;
    process.stderr.write(`wine harness: ${why} (attempt ${n}) - trying again\n`);
  }
}

function notStarted(r: WineResult): boolean {
  return r.status === 1 && /^Application could not be started, or no application associated with the specified file\.\r?\nShellExecuteEx failed: [^\r\n]*[\r\n]*$/.test(r.stdout);
}

export class WinePrefix {
  computerName = '';
  constructor(readonly dir: string) {}

  /** Make the prefix, reporting Windows Server 2008 (6.0.6002), from the template (prefixTemplate); keep one wineserver running. */
  init(): void {
    copyPrefix(prefixTemplate(), this.prefix);
    spawnSync('wineserver', ['-p'], { env: wineEnv(this.prefix), stdio: 'ignore' });
    this.computerName = this.run(['cmd', '/c', 'echo %COMPUTERNAME%']).stdout.trim();
    assert.match(this.computerName, /^[A-Za-z0-9._-]+$/, `usable COMPUTERNAME from Wine: ${this.computerName}`);
  }

  /** forget every CBS package (the host has no update installed); each test case starts from this */
  clearPackages(): void {
    this.run(['reg', 'delete', CBS_PACKAGES, '/f']);
  }

  /** register an update as installed on the host (CBS CurrentState 0x70) */
  addPackage(kb: string): void {
    this.addPackageKey(packageName(kb), 0x70);
  }

  /** a key under Packages (a package's name, or a deeper path) with this CurrentState */
  addPackageKey(name: string, currentState: number): void {
    const r = this.run(['reg', 'add', `${CBS_PACKAGES}\\${name}`, '/v', 'CurrentState', '/t', 'REG_DWORD', '/d', String(currentState), '/f']);
    assert.equal(r.status, 0, r.stderr);
  }

  /**
   * The host is in its n-th boot, reached by a clean restart: ShutdownTime holds the time the restart
   * that ended boot n - 1 wrote (as Windows writes it; reg add here), and the returned --test-build
   * variables have wmic tell boot n's times (hostClock). The same n again is the same boot.
   */
  boot(n: number): { CABFERRY_BOOTTIME: string; CABFERRY_NOW: string } {
    this.setShutdownTime(shutdownTimeHex(n));
    return hostClock(n);
  }

  /** write ShutdownTime (16 hex digits), or delete it (null): a host that does not show it */
  setShutdownTime(hex: string | null): void {
    const r = hex === null
      ? this.run(['reg', 'delete', SHUTDOWN_TIME_KEY, '/v', 'ShutdownTime', '/f'])
      : this.run(['reg', 'add', SHUTDOWN_TIME_KEY, '/v', 'ShutdownTime', '/t', 'REG_BINARY', '/d', hex, '/f']);
    // deleting a value that is not there fails; that leaves it absent all the same
    if (hex !== null) assert.equal(r.status, 0, r.stdout + r.stderr);
  }

  close(): void {
    spawnSync('wineserver', ['-k'], { env: wineEnv(this.prefix), stdio: 'ignore' });
  }

  get prefix(): string {
    return path.join(this.dir, 'prefix');
  }

  /**
   * `limits.fileSizeBytes`: no file the command writes may grow past this many bytes (prlimit's
   * RLIMIT_FSIZE, with SIGXFSZ ignored so a write past it fails instead of killing the process): a
   * medium that fills up part-way. Root is not spared it, as it is chmod. The wineserver must be
   * running already (init starts it), or it would be started under the limit too.
   * `limits.timeoutMs`: how long the command may run before it is killed (2 minutes unless given;
   * scripts/bench-lookup's runs take longer).
   */
  run(args: string[], env: Record<string, string | undefined> = {}, limits: WineLimits = {}): WineResult {
    // `wine NAME` runs NAME through start.exe, whose CreateProcess now and then fails before the
    // program runs a line (seen under load, with the session up: "ShellExecuteEx failed: Internal
    // error.", exit 1; Wine's NtCreateUserProcess says STATUS_INTERNAL_ERROR when the new process
    // dies before its start-up completes). Only that is tried again: the program never started, so
    // nothing it would have done (install.cmd's run, its result log) is hidden
    return whileNeverRan(
      () => this.runOnce(args, env, limits),
      (r) => (notStarted(r) ? `start.exe could not start ${args[0]}: ${r.stdout.trim()}` : null),
    );
  }

  private runOnce(args: string[], env: Record<string, string | undefined>, limits: WineLimits): WineResult {
    const merged: NodeJS.ProcessEnv = { ...wineEnv(this.prefix), ...env };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    // output goes to files, not pipes: Wine's helper processes (services, winedevice) inherit the
    // handles and outlive the command, so a pipe would only close when the wineserver exits
    const out = path.join(this.dir, 'wine.out');
    const err = path.join(this.dir, 'wine.err');
    const outFd = fs.openSync(out, 'w');
    const errFd = fs.openSync(err, 'w');
    try {
      const [command, argv]: [string, string[]] = limits.fileSizeBytes === undefined
        ? ['wine', args]
        : ['sh', ['-c', 'limit=$1; shift; trap "" XFSZ; exec prlimit --fsize="$limit" wine "$@"', 'sh', String(limits.fileSizeBytes), ...args]];
      const r = spawnSync(command, argv, { env: merged, stdio: ['ignore', outFd, errFd], timeout: limits.timeoutMs ?? 120_000 });
      if (r.error) throw r.error;
      return { status: r.status ?? -1, stdout: fs.readFileSync(out, 'latin1'), stderr: fs.readFileSync(err, 'latin1') };
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
    }
  }

  /**
   * Run an install.cmd; `status` is its full exit code, taken from the END line it logs (a Linux
   * exit status keeps only the low 8 bits of 3010), after checking both agree on those bits.
   */
  runScript(script: string, resultLog: string, args: string[], env: Record<string, string | undefined>, limits: WineLimits = {}): WineResult {
    const logSize = () => (fs.existsSync(resultLog) ? fs.statSync(resultLog).size : -1);
    // install.cmd prints a line before it does anything but set its own variables (the TEST BUILD
    // line, "installing updates on", or why it refuses its path or arguments). A run that printed
    // nothing and logged nothing never ran a line of it: Wine's cmd died in its start-up (seen once
    // under the full suite's load: exit 1, no output, 0.4 s). Only that is tried again
    let before = logSize();
    const r = whileNeverRan(
      () => {
        before = logSize();
        return this.run(['cmd', '/c', winPath(script), ...args], env, limits);
      },
      (run) => (run.stdout.trim() === '' && logSize() === before ? `cmd ran none of ${path.basename(script)} (exit ${run.status}, stderr ${JSON.stringify(run.stderr.trim())})` : null),
    );
    const ends = fs.existsSync(resultLog) ? parseResultLog(fs.readFileSync(resultLog, 'latin1')).ends : [];
    const status = ends.length > 0 ? ends[ends.length - 1].code : r.status;
    assert.equal(status & 0xff, r.status & 0xff, `exit status ${r.status} disagrees with the logged END code ${status}`);
    return { ...r, status };
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The stub programs of one test case, in `dir`. */
export class Stubs {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const cmd = (lines: string[]) => lines.join('\r\n') + '\r\n';
    const log = `${winPath(dir)}\\calls.log`;
    // installer stub: log "NAME FILE ARGS", exit with the code codes.txt gives for the file (default 0).
    // pkgmgr gets "/m:PATH" as one quoted argument, so %%~x / %%~nx see the file name in both cases.
    // A code that means "installed" also registers the update as a CBS package (CurrentState 0x70),
    // as the real installers do, unless noregister.txt names the file: install.cmd asks the host.
    const installer = (name: string) => cmd([
      '@echo off',
      'setlocal enabledelayedexpansion',
      'set "F="',
      'for %%a in (%*) do (if /i "%%~xa"==".msu" set "F=%%~nxa"',
      '  if /i "%%~xa"==".cab" set "F=%%~nxa"',
      '  if /i "%%~xa"==".exe" set "F=%%~nxa")',
      `>>"${log}" echo ${name} !F! %*`,
      'set "CODE=0"',
      `for /f "usebackq tokens=1,2" %%a in ("${winPath(dir)}\\codes.txt") do if /i "%%a"=="!F!" set "CODE=%%b"`,
      'set "REGISTER=0"',
      'for %%c in (0 3010 1641 2359302) do if "!CODE!"=="%%c" set "REGISTER=1"',
      `for /f "usebackq tokens=1" %%a in ("${winPath(dir)}\\noregister.txt") do if /i "%%a"=="!F!" set "REGISTER=0"`,
      'for /f "tokens=2 delims=-" %%k in ("%F%") do set "KB=%%k"',
      `if "!REGISTER!"=="1" %SystemRoot%\\System32\\reg.exe add "${CBS_PACKAGES}\\Package_for_!KB!~31bf3856ad364e35~amd64~~6.0.1.0" /v CurrentState /t REG_DWORD /d 112 /f >nul 2>&1`,
      // (its exit code, for the message of a test that finds the update missing: twice, under the
      // full suite's load, an installed SSU was not found by install.cmd afterwards)
      `if "!REGISTER!"=="1" >>"${winPath(dir)}\\register.log" echo !KB! reg-add-exit !errorlevel!`,
      // what else the installer of a file changes on the host (setPackageChanges): "FILE + KB" registers
      // another update's package, "FILE - KB" removes one, as a cumulative installer or a rollback might
      `for /f "usebackq tokens=1-3" %%a in ("${winPath(dir)}\\changes.txt") do if /i "%%a"=="!F!" if "%%b"=="+" %SystemRoot%\\System32\\reg.exe add "${CBS_PACKAGES}\\${packageName('%%c')}" /v CurrentState /t REG_DWORD /d 112 /f >nul 2>&1`,
      `for /f "usebackq tokens=1-3" %%a in ("${winPath(dir)}\\changes.txt") do if /i "%%a"=="!F!" if "%%b"=="-" %SystemRoot%\\System32\\reg.exe delete "${CBS_PACKAGES}\\${packageName('%%c')}" /f >nul 2>&1`,
      'exit /b !CODE!',
    ]);
    fs.writeFileSync(path.join(dir, 'wusa.cmd'), installer('wusa'));
    fs.writeFileSync(path.join(dir, 'pkgmgr.cmd'), installer('pkgmgr'));
    fs.writeFileSync(path.join(dir, 'exe.cmd'), installer('exe'));
    fs.writeFileSync(path.join(dir, 'hasher.cmd'), cmd([
      '@echo off',
      `for /f "usebackq tokens=1,2" %%a in ("${winPath(dir)}\\hashes.txt") do if /i "%%a"=="%~nx1" echo %%b`,
      'exit /b 0',
    ]));
    for (const tool of ['schtasks', 'shutdown']) {
      fs.writeFileSync(path.join(dir, `${tool}.cmd`), cmd(['@echo off', `>>"${log}" echo ${tool} %*`, 'exit /b 0']));
    }
    fs.writeFileSync(path.join(dir, 'codes.txt'), '');
    fs.writeFileSync(path.join(dir, 'hashes.txt'), '');
    fs.writeFileSync(path.join(dir, 'noregister.txt'), '');
    fs.writeFileSync(path.join(dir, 'changes.txt'), '');
  }

  /**
   * what the installer of a payload does to other updates' packages (packageName's form) while it
   * runs, besides registering its own: `registers` adds them installed, `removes` deletes them
   */
  setPackageChanges(file: string, changes: { registers?: string[]; removes?: string[] }): void {
    const lines = [...(changes.registers ?? []).map((kb) => `${file} + ${kb}`), ...(changes.removes ?? []).map((kb) => `${file} - ${kb}`)];
    fs.appendFileSync(path.join(this.dir, 'changes.txt'), lines.map((l) => `${l}\r\n`).join(''));
  }

  /** payloads whose installer reports success without the update appearing on the host */
  setNotRegistered(files: string[]): void {
    fs.writeFileSync(path.join(this.dir, 'noregister.txt'), files.map((f) => `${f}\r\n`).join(''));
  }

  /** exit codes by payload file name */
  setCodes(codes: Record<string, number>): void {
    fs.writeFileSync(path.join(this.dir, 'codes.txt'), Object.entries(codes).map(([f, c]) => `${f} ${c}\r\n`).join(''));
  }

  /** let the stub hasher report the current content of every payload (and the self-test file) */
  hashPayloads(payloadDir: string): void {
    const lines = [`sha256-selftest.txt ${HASH_SELFTEST_SHA256}`];
    for (const f of fs.readdirSync(payloadDir)) lines.push(`${f} ${sha256(fs.readFileSync(path.join(payloadDir, f)))}`);
    fs.writeFileSync(path.join(this.dir, 'hashes.txt'), lines.join('\r\n') + '\r\n');
  }

  /** the environment that points install.cmd at the stubs */
  env(): Record<string, string> {
    return {
      CABFERRY_WUSA: winPath(path.join(this.dir, 'wusa.cmd')),
      CABFERRY_PKGMGR: winPath(path.join(this.dir, 'pkgmgr.cmd')),
      CABFERRY_EXE: winPath(path.join(this.dir, 'exe.cmd')),
      CABFERRY_HASHER: winPath(path.join(this.dir, 'hasher.cmd')),
      CABFERRY_SCHTASKS: winPath(path.join(this.dir, 'schtasks.cmd')),
      CABFERRY_SHUTDOWN: winPath(path.join(this.dir, 'shutdown.cmd')),
    };
  }

  calls(): string[] {
    const p = path.join(this.dir, 'calls.log');
    return fs.existsSync(p) ? fs.readFileSync(p, 'latin1').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '') : [];
  }

  /** what the stub installers registered on the host, with reg.exe's exit code: for failure messages */
  registrations(): string {
    const p = path.join(this.dir, 'register.log');
    return fs.existsSync(p) ? fs.readFileSync(p, 'latin1').trim().replace(/\r?\n/g, '; ') : 'nothing registered';
  }

  /** payload file names passed to wusa/pkgmgr, in call order */
  installed(): string[] {
    return this.calls().filter((l) => /^(wusa|pkgmgr|exe) /.test(l)).map((l) => l.split(' ')[1]);
  }
}
