import fs = require('node:fs');
import { inputError, internalError } from '../errors';
import { incompleteReasons } from '../planner/present';
import type { HostInventory, HostPlan, PlanStep } from '../planner/types';
import { isEsuYear, MAX_ESU_YEAR } from '../knowledge/knowledge-base';
import { packageFilePath } from '../shipped-data';
import { INSTALLER_EXIT_CODES } from './exit-codes';
import { assertMediaName } from './names';
import { planIdOf } from './plan-identity';

/**
 * install.cmd: the plan of one host as a batch script for a bare Windows Server 2008 SP2
 * (cmd.exe, reg.exe, find, wusa.exe, pkgmgr.exe; no PowerShell).
 *
 * The script itself is a file one can read as a script: templates/install.cmd.tmpl. This
 * module fills in only its header variables (@@NAME@@) and the step table; see the template
 * for layout on the media and the reasons behind the batch code.
 */

export interface InstallScriptOptions {
  /** cabferry version, written into the header */
  version: string;
  /** ISO time of generation */
  generatedAt: string;
  /**
   * A test build: honours the CABFERRY_* replacement variables (stub installers, hasher, boot
   * time, licence status) and says so in its header, on screen and in every log line. Never
   * for a real host; the script staged for real hosts ignores those variables.
   */
  testBuild?: boolean;
  /**
   * the ESU activation IDs of the host's product, each with its ESU year: before an ESU-only step the
   * script checks the LicenseStatus of the IDs of the year that step needs (PlanStep.esuYear), no other
   */
  esuActivationIds?: { year: number; id: string }[];
  /**
   * the size in bytes of each payload the plan names (as the medium's manifest lists it), by the file
   * name a step gives: install.cmd compares it with the file's size on the medium before hashing it
   */
  payloadSize: (file: string) => number | undefined;
}

/** The fixed self-test input and its SHA-256 (FIPS 180-2 test vector "abc"). */
export const HASH_SELFTEST_CONTENT = 'abc';
export const HASH_SELFTEST_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
export const HASH_SELFTEST_PATH = 'tools/sha256-selftest.txt';
export const SHA256_VBS_PATH = 'tools/sha256.vbs';

/** Where install.cmd keeps its state and log, relative to the media root; not covered by the manifest. */
export const RESULTS_DIR = 'results';

/** Exit codes of install.cmd itself. */
export const INSTALL_SCRIPT_EXIT = { complete: 0, stopped: 1, refused: 2, restart: 3010 } as const;

/** The template, relative to the package root (shipped with cabferry; `npm run dist` must pack it). */
export const INSTALL_TEMPLATE_PATH = ['src', 'media', 'templates', 'install.cmd.tmpl'] as const;

/** The variables the template may contain, each filled in exactly as rendered below. */
export const TEMPLATE_VARIABLES = [
  'HEADER', 'HOST', 'ARCH', 'NTVER', 'BUILD', 'STEPS', 'INCOMPLETE', 'PLANID', 'SCRIPTKIND', 'ESUIDS', 'SELFTESTSHA', 'ASSUMED', 'ASSUMEDCOUNT', 'STEPTABLE', 'DONEKBS', 'INTERPRET', 'REBOOTCODES',
] as const;
type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const CRLF = '\r\n';

/** A plan step with the fields the planner adds for ESU-only updates and .exe payloads (optional until it does). */
type StagedStep = PlanStep;

let templateText: string | null = null;

/** The install.cmd template as shipped. */
export function installScriptTemplate(): string {
  if (templateText === null) {
    const file = packageFilePath(...INSTALL_TEMPLATE_PATH);
    try {
      templateText = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw internalError('MEDIA_TEMPLATE_MISSING', `cannot read the install.cmd template: ${(e as NodeJS.ErrnoException).code ?? e}`, { file, cause: e });
    }
  }
  return templateText;
}

/** Render install.cmd for one host and its plan. */
export function renderInstallScript(plan: HostPlan, host: HostInventory, options: InstallScriptOptions): string {
  const hostName = assertMediaName(plan.host, 'host name');
  const arch = host.architecture === null || host.architecture === 'neutral' ? '' : host.architecture;
  const ntVersion = host.ntVersion ?? '';
  const build = host.build === null ? '' : String(host.build);
  const planId = planIdOf(host, plan);
  const esuIds = (options.esuActivationIds ?? []).map(({ year, id }) => {
    if (!/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/.test(id)) {
      throw inputError('MEDIA_BAD_ACTIVATION_ID', `ESU activation ID ${JSON.stringify(id)} is not a GUID`);
    }
    if (!isEsuYear(year)) throw inputError('MEDIA_BAD_ACTIVATION_ID', `ESU activation ID ${id}: year ${JSON.stringify(year)} is not 1 to ${MAX_ESU_YEAR}`);
    return { year, id: id.toLowerCase() };
  });
  const values: Record<TemplateVariable, string> = {
    HEADER: headerLines(plan, host, hostName, planId, options).join('\n'),
    HOST: hostName,
    ARCH: arch,
    NTVER: cmdToken(ntVersion, 'NT version'),
    BUILD: build,
    STEPS: String(plan.steps.length),
    INCOMPLETE: plan.complete ? '0' : '1',
    PLANID: planId,
    SCRIPTKIND: options.testBuild === true ? 'test' : 'release',
    // every year set, the empty ones too: an ID list never comes from the environment install.cmd
    // runs in (the template clears CF_ESU_OK_1 … _6 for the same years)
    ESUIDS: Array.from({ length: MAX_ESU_YEAR }, (_, i) => `set "CF_ESU_IDS_${i + 1}=${esuIds.filter((e) => e.year === i + 1).map((e) => e.id).join(' ')}"`).join('\n'),
    SELFTESTSHA: HASH_SELFTEST_SHA256,
    ASSUMED: (plan.assumedInstalled ?? []).map((kb) => `call :assumed_installed ${cmdToken(kb, 'installed update')}`).join('\n'),
    ASSUMEDCOUNT: String((plan.assumedInstalled ?? []).length),
    STEPTABLE: (plan.steps as StagedStep[]).map((s) => stepLine(s, options.payloadSize)).join('\n'),
    // each install step's number and KB, for the look-up of the steps a resumed run finds done (:done_snapshot)
    DONEKBS: plan.steps.filter((s) => s.action === 'install').map((s) => `call :done_verdict ${s.n} ${assertMediaName(s.kb ?? '', `KB of step ${s.n}`)}`).join('\n'),
    INTERPRET: interpretBlock(),
    // the installer codes that ask for a restart after installing, from the one exit code table (as report reads them)
    REBOOTCODES: INSTALLER_EXIT_CODES.filter((c) => c.outcome === 'reboot' && c.presentAfter).map((c) => String(c.code)).join(' '),
  };
  const text = fillTemplate(installScriptTemplate(), values);
  assertAscii(text, hostName);
  return text.replace(/\r?\n/g, CRLF);
}

/** Replace every @@NAME@@; a name the renderer does not know is a bug in the template. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/@@([A-Z]+)@@/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw internalError('MEDIA_TEMPLATE_VARIABLE', `the install.cmd template uses @@${name}@@, which nothing renders`);
    return v;
  });
}

function headerLines(plan: HostPlan, host: HostInventory, hostName: string, planId: string, options: InstallScriptOptions): string[] {
  const test = options.testBuild === true;
  return [
    'rem ==== cabferry install script ====================================================',
    ...(test
      ? [
        'rem !!!!! TEST BUILD - staged with --test-build for cabferry\'s own tests. It honours the',
        'rem !!!!! CABFERRY_WUSA, CABFERRY_PKGMGR, CABFERRY_HASHER, CABFERRY_SCHTASKS, CABFERRY_SHUTDOWN,',
        'rem !!!!! CABFERRY_EXE, CABFERRY_BOOTTIME, CABFERRY_NOW, CABFERRY_LICENSESTATUS, CABFERRY_WMIC_QFE and',
        'rem !!!!! CABFERRY_WMIC_LICENCE replacement variables.',
        'rem !!!!! NOT FOR REAL HOSTS.',
      ]
      : []),
    `rem Host:  ${hostName}  architecture ${host.architecture ?? 'not stated'}, Windows NT ${oneLine(host.ntVersion ?? '?')} build ${host.build ?? '?'}`,
    `rem Plan:  ${planId}`,
    `rem        ${plan.steps.length} steps, generated by cabferry ${oneLine(options.version)} at ${oneLine(options.generatedAt)}`,
    ...((plan.assumedInstalled ?? []).length > 0
      ? [`rem        before its first step it checks that this host has the ${plan.assumedInstalled!.length} installed update(s) the plan rests on`]
      : []),
    ...(plan.complete
      ? []
      : [
        'rem !!!!! INCOMPLETE PLAN: staged with --allow-incomplete. The host will not be current after it runs:',
        ...incompleteReasons(plan).map((reason) => `rem !!!!!   ${oneLine(reason)}`),
        ...plan.missing.map((m) => `rem !!!!!   ${oneLine(m.kb)}: ${oneLine(m.reason)}`),
      ]),
    'rem Run it from the media as Administrator:  install.cmd [/autoreboot] [/skiphashcheck] [/restarted]',
    'rem   /autoreboot     restart by itself when a step needs it and continue after the restart',
    `rem                   through a scheduled task cabferry-${hostName} that runs at startup as SYSTEM`,
    'rem   /skiphashcheck  install even when this host cannot compute SHA-256 - not recommended',
    'rem   /restarted      the host did restart where this script cannot prove it (Windows recorded no',
    'rem                   clean shutdown since the request - a crash or power cut records none - or',
    'rem                   its ShutdownTime cannot be read): taken on your word and logged as that',
    'rem                   (reboot-stated), never as a proven restart',
    'rem Exit codes: 0 all steps done and found on the host; 3010 restart the host and run it again;',
    'rem   1 stopped on a failure, or an update installed or taken as installed is not found on the host -',
    'rem     see the result log;',
    'rem   2 wrong host, not elevated, bad argument or read-only media, or this host lacks an update',
    'rem     the plan took as installed (its inventory is not this host as it is now).',
    `rem State and log: ..\\..\\${RESULTS_DIR}\\${hostName}\\${planId}\\`,
    'rem   state.txt says where to resume; result.log says what happened, one line per event.',
  ];
}

/** One line of the step table: `call :step`, followed by the stop check. */
function stepLine(step: StagedStep, payloadSize: InstallScriptOptions['payloadSize']): string {
  const n = step.n;
  if (step.action === 'reboot') {
    return `call :step ${n} reboot - - - - 0\nif errorlevel 1 goto :stopped`;
  }
  if (step.file === null || step.sha256 === null || step.kb === null) {
    throw inputError('MEDIA_PLAN_STEP_INCOMPLETE', `plan step ${n} installs ${step.kb ?? 'an update'} but names no payload file or SHA-256`);
  }
  const file = assertMediaName(step.file, `payload file of step ${n}`);
  const installer = installerFor(file);
  if (!/^[0-9a-f]{64}$/.test(step.sha256)) {
    throw inputError('MEDIA_PLAN_BAD_SHA256', `plan step ${n} has an invalid SHA-256 ${JSON.stringify(step.sha256)}`);
  }
  const kb = assertMediaName(step.kb, `KB of step ${n}`);
  // written as decimal digits, as cmd's %~z prints a size: install.cmd compares the two as text
  const size = payloadSize(step.file);
  if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw inputError('MEDIA_PLAN_PAYLOAD_SIZE', `plan step ${n}: no size in bytes is known for its payload ${file}${size === undefined ? '' : ` (${JSON.stringify(size)})`}`);
  }
  // the ESU year whose licence the step needs (0: no ESU); a step needing ESU of no known year cannot be checked
  let esu = 0;
  if (step.requiresEsu === true) {
    if (!isEsuYear(step.esuYear)) {
      throw inputError('MEDIA_PLAN_ESU_YEAR', `plan step ${n} installs ${step.kb}, which needs an activated ESU licence, but names no ESU year (1 to ${MAX_ESU_YEAR}) whose licence install.cmd could check`);
    }
    esu = step.esuYear;
  }
  const call = `call :step ${n} install ${kb} ${installer} ${file} ${step.sha256} ${esu} ${size}\nif errorlevel 1 goto :stopped`;
  if (installer !== 'exe') return call;
  const switches = (step.switches ?? []).map((sw) => {
    if (!/^[A-Za-z0-9/:=._-]+$/.test(sw)) throw inputError('MEDIA_BAD_SWITCH', `plan step ${n}: installer switch ${JSON.stringify(sw)} cannot be passed safely by install.cmd`);
    return sw;
  });
  // known switches, even none, run unattended; unknown ones may wait for an answer (the template's :step_exe)
  const known = step.switches !== undefined ? 1 : 0;
  return `set "S_SWITCHES=${switches.join(' ')}"\nset "S_SWITCHES_KNOWN=${known}"\nset "S_CANCEL_RESTART=${step.cancelsOwnRestart === true ? 1 : 0}"\n${call}`;
}

/**
 * The steps install.cmd does not run under /autoreboot: an .exe whose silent switches the
 * knowledge base does not record, which may wait for an answer in a window (the template's
 * :step_exe). The operator learns it when staging and checking the medium, before the trip.
 */
export function consoleSteps(steps: readonly Pick<PlanStep, 'n' | 'action' | 'file' | 'switches'>[]): number[] {
  return steps.filter((s) => s.action === 'install' && typeof s.file === 'string' && installerOf(s.file) === 'exe' && s.switches === undefined).map((s) => s.n);
}

/** consoleSteps in words, as stage, verify-media and the medium's README.txt say them. */
export function consoleStepsText(steps: readonly number[]): string {
  const one = steps.length === 1;
  return `step${one ? '' : 's'} ${steps.join(', ')} run${one ? 's' : ''} an installer with no known silent switches, which may wait for an answer in a window: run install.cmd at the console for ${one ? 'it' : 'them'}, not with /autoreboot`;
}

/** .msu goes through wusa.exe, a payload .cab through pkgmgr.exe (NT 6.0 has no DISM), an .exe runs itself. */
export function installerFor(file: string): 'wusa' | 'pkgmgr' | 'exe' {
  const installer = installerOf(file);
  if (installer === null) throw inputError('MEDIA_UNKNOWN_PAYLOAD_TYPE', `${file}: only .msu, .cab and .exe payloads can be installed`);
  return installer;
}

/** installerFor, or null for a file no installer takes (a plan.json read back from a medium may name anything). */
function installerOf(file: string): 'wusa' | 'pkgmgr' | 'exe' | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.msu')) return 'wusa';
  if (lower.endsWith('.cab')) return 'pkgmgr';
  if (lower.endsWith('.exe')) return 'exe';
  return null;
}

/**
 * install.cmd's interpretation of an installer exit code, generated from the one exit code
 * table: S_MEANING and S_OUTCOME as in the table, S_TEXT for the operator, S_EXPECT 1 when
 * the update should now be on the host (so the host is asked), 0 when it should not.
 */
function interpretBlock(): string {
  const lines = ['set "S_MEANING=failed"', 'set "S_OUTCOME=stop"', 'set "S_EXPECT=0"', 'set "S_TEXT=the installer failed"'];
  for (const c of INSTALLER_EXIT_CODES) {
    lines.push(`if "!S_CODE!"=="${c.code}" (set "S_MEANING=${c.meaning}" & set "S_OUTCOME=${c.outcome}" & set "S_EXPECT=${c.presentAfter ? 1 : 0}" & set "S_TEXT=${cmdText(c.explanation)}")`);
  }
  return lines.join('\n');
}

/** Text that cmd.exe echoes or sets verbatim: no characters it would interpret. */
function cmdText(text: string): string {
  const clean = text.replace(/\(/g, '[').replace(/\)/g, ']');
  if (/[!%&|<>^"]/.test(clean)) throw new Error(`text not safe for install.cmd: ${text}`);
  return clean;
}

/** A value set verbatim into a variable: letters, digits and dots only. */
function cmdToken(text: string, what: string): string {
  if (!/^[A-Za-z0-9.]*$/.test(text)) throw inputError('MEDIA_BAD_VALUE', `${what} ${JSON.stringify(text)} cannot be written into install.cmd`);
  return text;
}

/** Text for a `rem` line: one line, printable ASCII, nothing cmd.exe expands even in a comment. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').replace(/[%!^&|<>]/g, ' ');
}

function assertAscii(text: string, host: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[^\x09\x0a\x20-\x7e]/.exec(text);
  if (bad) throw inputError('MEDIA_NON_ASCII', `install.cmd for ${host} would contain a non-ASCII character at ${bad.index}`);
}

/**
 * tools\sha256.vbs: SHA-256 of one file with what a full Windows Server 2008 SP2 ships
 * (Windows Script Host, ADODB.Stream from Windows DAC, .NET Framework 2.0's SHA256Managed
 * through COM interop). Prints 64 hex digits. ADODB.Stream loads the file into memory, the
 * hash is computed in 1 MiB blocks.
 */
export function sha256VbsScript(): string {
  return [
    "' cabferry: prints the SHA-256 of one file as 64 hex digits.",
    "' Needs Windows Script Host, ADODB.Stream and .NET Framework 2.0 (COM interop), all part of a",
    "' full Windows Server 2008 SP2 installation. install.cmd proves it on a known input first.",
    "' It writes to StdOut, not WScript.Echo: install.cmd runs it with cscript //B, and in batch",
    "' mode all input and output to WSH is disabled (Microsoft, WScript.Interactive property).",
    'Option Explicit',
    'Const BLOCK = 1048576',
    'Dim sha, stream, chunk, digest, i, out',
    'If WScript.Arguments.Count <> 1 Then WScript.Quit 2',
    'On Error Resume Next',
    'Set sha = CreateObject("System.Security.Cryptography.SHA256Managed")',
    'If Err.Number <> 0 Then WScript.Quit 1',
    'Set stream = CreateObject("ADODB.Stream")',
    'If Err.Number <> 0 Then WScript.Quit 1',
    'stream.Type = 1',
    'stream.Open',
    'stream.LoadFromFile WScript.Arguments(0)',
    'If Err.Number <> 0 Then WScript.Quit 1',
    'If stream.Size = 0 Then',
    '  WScript.StdOut.WriteLine "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    '  WScript.Quit 0',
    'End If',
    'Do',
    '  chunk = stream.Read(BLOCK)',
    '  If stream.EOS Then',
    '    sha.TransformFinalBlock chunk, 0, LenB(chunk)',
    '    Exit Do',
    '  End If',
    '  sha.TransformBlock chunk, 0, LenB(chunk), chunk, 0',
    '  If Err.Number <> 0 Then WScript.Quit 1',
    'Loop',
    'If Err.Number <> 0 Then WScript.Quit 1',
    'digest = sha.Hash',
    'out = ""',
    'For i = 1 To LenB(digest)',
    '  out = out & Right("0" & LCase(Hex(AscB(MidB(digest, i, 1)))), 2)',
    'Next',
    'WScript.StdOut.WriteLine out',
    '',
  ].join(CRLF);
}
