import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertThrowsCode } from '../common.helpers';
import { fillTemplate, HASH_SELFTEST_SHA256, installerFor, installScriptTemplate, renderInstallScript, sha256VbsScript, TEMPLATE_VARIABLES } from '../../src/media/install-script';
import { planIdOf } from '../../src/media/plan-identity';
import { hex32, INSTALLER_EXIT_CODES, interpretExitCode, toSigned } from '../../src/media/exit-codes';
import { parseResultLog } from '../../src/media/result-log';
import { createHash } from 'node:crypto';
import type { HostInventory, HostPlan, PlanStep } from '../../src/planner/types';

/** install.cmd as text, without running it (the Wine tests run it): structure, safety, tables. */

const host: HostInventory = {
  name: 'SRV-01', product: 'Windows Server 2008', ntVersion: '6.0', build: 6002, revision: null, architecture: 'amd64', servicePack: 2,
  installed: [], servicingStackVersion: null, sha2CodeSigning: false, pendingReboot: false, sources: [], unknown: [], sections: { hotfixes: true }, esuLicence: null, files: [], evidence: [], conflicts: [],
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const steps: PlanStep[] = [
  { n: 1, action: 'install', kb: 'KB4493730', file: 'Windows6.0-KB4493730-x64.msu', sha256: sha('a'), kind: 'servicing-stack', reason: 'r' },
  { n: 2, action: 'install', kb: 'KB4474419', file: 'Windows6.0-KB4474419-v4-x64.msu', sha256: sha('b'), kind: 'sha2-support', reason: 'r' },
  { n: 3, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'r' },
  { n: 4, action: 'install', kb: 'KB4499180', file: 'Windows6.0-KB4499180-x64.cab', sha256: sha('c'), kind: 'security-only', reason: 'r' },
];
const plan = (over: Partial<HostPlan> = {}): HostPlan => ({ host: 'SRV-01', files: [], complete: true, incomplete: [], catalogCurrency: null, steps, missing: [], skipped: [], assumptions: [], ...over });
/** each payload's size in bytes, as the manifest would list it: 1000 plus its step number */
const payloadSize = (file: string): number | undefined => { const n = steps.find((s) => s.file === file)?.n; return n === undefined ? 4242 : 1000 + n; };
const render = (p: HostPlan = plan(), h: HostInventory = host) => renderInstallScript(p, h, { version: '9.9.9', generatedAt: '2026-11-23T00:00:00.000Z', payloadSize });

const expectCode = (fn: () => unknown, code: string): unknown => assertThrowsCode(fn, code);

describe('renderInstallScript', () => {
  test('ASCII with CRLF line endings only, and the step table in plan order with the right installer', () => {
    const text = render();
    assert.ok(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text), 'ASCII only');
    assert.equal(text.split('\r\n').length - 1, text.split('\n').length - 1, 'every LF is preceded by CR');
    const table = text.split('\r\n').filter((l) => l.startsWith('call :step '));
    assert.deepEqual(table, [
      `call :step 1 install KB4493730 wusa Windows6.0-KB4493730-x64.msu ${sha('a')} 0 1001`,
      `call :step 2 install KB4474419 wusa Windows6.0-KB4474419-v4-x64.msu ${sha('b')} 0 1002`,
      'call :step 3 reboot - - - - 0',
      `call :step 4 install KB4499180 pkgmgr Windows6.0-KB4499180-x64.cab ${sha('c')} 0 1004`,
    ]);
    assert.match(text, /set "CF_HOST=SRV-01"\r\nset "CF_ARCH=amd64"\r\nset "CF_NTVER=6\.0"\r\nset "CF_BUILD=6002"/);
    assert.match(text, /cmd\.exe \/c ""!CF_WUSA!" "!CF_PAYLOADS!!S_FILE!" \/quiet \/norestart"/);
    assert.match(text, /cmd\.exe \/c ""!CF_PKGMGR!" \/ip "\/m:!CF_PAYLOADS!!S_FILE!" \/quiet \/norestart"/);
    assert.match(text, /cabferry 9\.9\.9 at 2026-11-23T00:00:00\.000Z/);
    assert.doesNotMatch(text, /@@[A-Z]+@@/, 'every template variable is filled in');
  });

  test('avoids what Wine cmd gets wrong and what cmd.exe would interpret (see WINE-TESTING.md)', () => {
    const code = render().split('\r\n').filter((l) => !/^\s*rem /i.test(l));
    for (const line of code) {
      assert.ok(!/&&|\|\|/.test(line), `no conditional chaining: ${line}`);
      assert.ok(!/![A-Z_]+:[~ ]/.test(line), `no delayed-expansion substring or substitution: ${line}`);
      assert.ok(!/\bfindstr\b/i.test(line), `no findstr: ${line}`);
      assert.ok(!/^\s*call "/.test(line), `no call of a program (Wine returns 1): ${line}`);
      assert.ok(!/for \/f [^(]*in \("![A-Z_]+!"\)/.test(line), `no delayed expansion in a for /f file set: ${line}`);
    }
  });

  test('every installer exit code of the table is interpreted in the script, with its meaning and outcome', () => {
    const text = render();
    for (const c of INSTALLER_EXIT_CODES) {
      assert.ok(text.includes(`if "!S_CODE!"=="${c.code}" (set "S_MEANING=${c.meaning}" & set "S_OUTCOME=${c.outcome}"`), `${c.code} ${c.meaning}`);
    }
    assert.match(text, /SHA-2 code signing support is not active yet: install KB4474419 and reboot/);
  });

  test('an incomplete plan is marked in the header and announced when the script runs', () => {
    const text = render(plan({ complete: false, missing: [{ kb: 'KB4474419', reason: 'not in the catalog; 100% needed & more', cause: { kind: 'missing' as const, kb: 'KB4474419', title: null, copy: null, needs: [], fileHint: 'Windows6.0-KB4474419-v4-x64.msu' } }] }));
    assert.match(text, /rem !!!!! INCOMPLETE PLAN[^\r]*\r\nrem !!!!! {3}KB4474419: not in the catalog; 100  needed   more/);
    assert.match(text, /set "CF_INCOMPLETE=1"/);
  });

  test('a plan whose only step is a restart (a host with a restart pending and nothing else to install): one reboot step, which asks for the restart on the first run', () => {
    const text = render(plan({ steps: [{ n: 1, action: 'reboot', kb: null, file: null, sha256: null, kind: 'reboot', reason: 'restart first' }] }));
    assert.deepEqual(text.split('\r\n').filter((l) => l.startsWith('call :step ')), ['call :step 1 reboot - - - - 0']);
    assert.match(text, /set "CF_STEPS=1"/);
    // step 1 has no step before it: any proven restart in state.txt would do (:restart_shown), and the
    // first run has none, so it asks for the restart (END restart, 3010); the run after it finds it done
    // (check_restart: RebootPending gone, ShutdownTime changed since the request), logs reboot-done for
    // step 1, and only that run ends complete
    assert.match(text, /:step_reboot\r\n(rem [^\r]*\r\n)*call :restart_shown !S_N!\r\nif "!CF_SHOWN!"=="proven" goto :step_reboot_satisfied\r\nif "!CF_SHOWN!"=="stated" goto :step_reboot_stated\r\n>>"!CF_STATE!" echo done !S_N! 0 n\/a\r\nset "S_CODE=0"\r\ncall :log reboot-requested\r\ngoto :request_restart/);
  });

  test('unknown host facts are left unchecked rather than guessed', () => {
    const text = render(plan(), { ...host, architecture: null, build: null, ntVersion: null });
    assert.match(text, /set "CF_ARCH="\r\nset "CF_NTVER="\r\nset "CF_BUILD="/);
  });

  test('refuses names and values it cannot put safely into a .cmd', () => {
    const bad = (s: Partial<PlanStep>) => plan({ steps: [{ ...steps[0], ...s }] });
    expectCode(() => render(plan({ host: 'SRV&01' })), 'MEDIA_BAD_NAME');
    expectCode(() => render(bad({ file: 'a b.msu' })), 'MEDIA_BAD_NAME');
    expectCode(() => render(bad({ file: 'x.zip' })), 'MEDIA_UNKNOWN_PAYLOAD_TYPE');
    expectCode(() => render(bad({ file: 'x.exe', switches: ['/q', '& del'] } as Partial<PlanStep>)), 'MEDIA_BAD_SWITCH');
    expectCode(() => render(bad({ sha256: 'XYZ' })), 'MEDIA_PLAN_BAD_SHA256');
    expectCode(() => render(bad({ sha256: null })), 'MEDIA_PLAN_STEP_INCOMPLETE');
    expectCode(() => render(bad({ kb: 'KB1%PATH%' })), 'MEDIA_BAD_NAME');
    expectCode(() => render(plan({ assumedInstalled: ['KB1 & del'] })), 'MEDIA_BAD_VALUE');
    assert.equal(installerFor('X.MSU'), 'wusa');
    assert.equal(installerFor('x.Cab'), 'pkgmgr');
    assert.equal(installerFor('x.EXE'), 'exe');
  });

  test('the updates the plan took as installed are checked one line each, however many: no line reaches cmd.exe\'s 8191 characters', () => {
    assert.deepEqual(render().split('\r\n').filter((l) => l.startsWith('call :assumed_installed ')), []);
    const many = Array.from({ length: 1500 }, (_, i) => `KB${4000000 + i}`);
    const lines = render(plan({ assumedInstalled: many })).split('\r\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('call :assumed_installed ')), many.map((kb) => `call :assumed_installed ${kb}`));
    assert.ok(Math.max(...lines.map((l) => l.length)) < 1000, 'every line short');
    assert.match(lines.join('\n'), /checks that this host has the 1500 installed update\(s\) the plan rests on/);
  });

  test('plan identity: the id of the plan is in the header and the variables; another plan of the same host has another id and results folder', () => {
    const text = render();
    const id = planIdOf(host, plan());
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(text, new RegExp(`rem Plan:  ${id}\r\n`));
    assert.match(text, new RegExp(`set "CF_PLAN=${id}"`));
    assert.match(text, /for %%i in \("%CF_HERE%\.\.\\\.\.\\results\\%CF_HOST%\\%CF_PLAN%"\)/);
    const other = planIdOf(host, plan({ steps: steps.slice(0, 2) }));
    assert.notEqual(other, id);
    assert.equal(planIdOf({ ...host }, JSON.parse(JSON.stringify(plan()))), id, 'the id survives a JSON round trip');
  });

  test('a real script ignores the test hooks; a --test-build script honours them and says so in its header, on screen and in every log line', () => {
    const real = render();
    assert.match(real, /set "CF_SCRIPT=release"/);
    assert.doesNotMatch(real, /TEST BUILD - staged/);
    const test = renderInstallScript(plan(), host, { version: '9.9.9', generatedAt: 'x', payloadSize, testBuild: true });
    assert.match(test, /set "CF_SCRIPT=test"/);
    assert.match(test, /rem !!!!! TEST BUILD - staged with --test-build/);
    // the hooks are read in one place, reached only when CF_SCRIPT is test
    const lines = test.split('\r\n');
    const hookLines = lines.filter((l) => /CABFERRY_[A-Z]+/.test(l) && !/^rem /.test(l));
    const start = lines.indexOf(':test_hooks');
    assert.ok(start > 0);
    const end = lines.findIndex((l, i) => i > start && l === 'exit /b 0');
    assert.ok(hookLines.every((l) => { const i = lines.indexOf(l); return i > start && i < end; }), hookLines.join('\n'));
    assert.ok(lines.includes('if "!CF_SCRIPT!"=="test" call :test_hooks'));
    for (const kind of ['RUN', 'RESULT', 'END']) {
      assert.ok(lines.some((l) => l.startsWith(`>>"!CF_LOG!" echo ${kind} plan=!CF_PLAN! script=!CF_SCRIPT! `)), kind);
    }
  });

  test('system programs by full path: no bare reg, wmic, find, fsutil, net, cmd, schtasks, shutdown, certutil or cscript', () => {
    const code = render().split('\r\n').filter((l) => !/^\s*rem /i.test(l) && !/^\s*echo /i.test(l));
    for (const line of code) {
      // a program in command position: line start, after do, inside a for /f ('…'), after a pipe, after a condition's )
      const bare = /(^\s*|\bdo\s+|\('|\|\s*|\)\s+|else\s+)(reg|wmic|find|fsutil|net|cmd|schtasks|shutdown|certutil|cscript|wusa|pkgmgr)(\.exe)?\s/i.exec(line.replace(/\^\|/g, '|'));
      assert.equal(bare, null, `called without a full path: ${line}`);
    }
  });

  test('ESU-only steps carry the flag, the activation IDs are in the script; .exe steps run the payload with the plan\'s switches', () => {
    const esuSteps = [
      { ...steps[0], requiresEsu: true, esuYear: 1 },
      { n: 2, action: 'install', kb: 'KB4536952', file: 'windows6.0-kb4536952-x64.exe', sha256: sha('e'), kind: 'other', reason: 'r', switches: ['/quiet', '/norestart'] },
    ] as unknown as PlanStep[];
    const text = renderInstallScript(plan({ steps: esuSteps }), host, { version: '1', generatedAt: 'x', payloadSize, esuActivationIds: [{ year: 1, id: '553673ED-6DDF-419C-A153-B760283472FD' }] });
    assert.ok(text.includes(`call :step 1 install KB4493730 wusa Windows6.0-KB4493730-x64.msu ${sha('a')} 1 1001\r\n`));
    assert.ok(text.includes(`set "S_SWITCHES=/quiet /norestart"\r\nset "S_SWITCHES_KNOWN=1"\r\nset "S_CANCEL_RESTART=0"\r\ncall :step 2 install KB4536952 exe windows6.0-kb4536952-x64.exe ${sha('e')} 0 4242\r\n`));
    // switches the knowledge base does not record, and a recorded empty list, are told apart
    const exe = (switches: string[] | undefined) => renderInstallScript(plan({ steps: [{ ...esuSteps[1], switches }] }), host, { version: '1', generatedAt: 'x', payloadSize });
    assert.match(exe(undefined), /set "S_SWITCHES="\r\nset "S_SWITCHES_KNOWN=0"\r\n/);
    assert.match(exe([]), /set "S_SWITCHES="\r\nset "S_SWITCHES_KNOWN=1"\r\n/);
    assert.match(text, /set "CF_ESU_IDS_1=553673ed-6ddf-419c-a153-b760283472fd"/);
    expectCode(() => renderInstallScript(plan(), host, { version: '1', generatedAt: 'x', payloadSize, esuActivationIds: [{ year: 1, id: 'not a guid & more' }] }), 'MEDIA_BAD_ACTIVATION_ID');
  });

  test('an ESU step checks the activation IDs of the ESU year it needs, not any year\'s (review h/planreview)', () => {
    // Each ESU year is a MAK add-on key of its own: a Year 1 licence does not install the January 2023
    // (year 3) rollup. install.cmd used to accept any year's ID for every ESU step.
    const ids = [
      { year: 1, id: '553673ed-6ddf-419c-a153-b760283472fd' }, { year: 2, id: '04fa0286-fa74-401e-bbe9-fbfbb158010d' }, { year: 3, id: '16c08c85-0c8b-4009-9b2b-f1f7319e45f9' },
    ];
    const esuSteps: PlanStep[] = [
      { n: 1, action: 'install', kb: 'KB4537810', file: 'Windows6.0-KB4537810-x64.msu', sha256: sha('y1'), kind: 'monthly-rollup', reason: 'r', requiresEsu: true, esuYear: 1 },
      { n: 2, action: 'install', kb: 'KB5022340', file: 'Windows6.0-KB5022340-x64.msu', sha256: sha('y3'), kind: 'monthly-rollup', reason: 'r', requiresEsu: true, esuYear: 3 },
    ];
    const text = renderInstallScript(plan({ steps: esuSteps }), host, { version: '1', generatedAt: 'x', payloadSize, esuActivationIds: ids });
    const lines = text.split('\r\n');
    assert.ok(lines.includes(`call :step 1 install KB4537810 wusa Windows6.0-KB4537810-x64.msu ${sha('y1')} 1 4242`));
    assert.ok(lines.includes(`call :step 2 install KB5022340 wusa Windows6.0-KB5022340-x64.msu ${sha('y3')} 3 4242`));
    // one ID list per year, every year set (an empty one too: nothing comes from the environment)
    assert.deepEqual(lines.filter((l) => l.startsWith('set "CF_ESU_IDS')), [
      'set "CF_ESU_IDS_1=553673ed-6ddf-419c-a153-b760283472fd"', 'set "CF_ESU_IDS_2=04fa0286-fa74-401e-bbe9-fbfbb158010d"', 'set "CF_ESU_IDS_3=16c08c85-0c8b-4009-9b2b-f1f7319e45f9"',
      'set "CF_ESU_IDS_4="', 'set "CF_ESU_IDS_5="', 'set "CF_ESU_IDS_6="',
    ]);
    assert.ok(!/CF_ESU_IDS[^_]/.test(text), 'no list of every year\'s IDs is left');
    // :esu_check reads the list of the year it is called with, and remembers a pass per year only
    const check = text.slice(text.indexOf('\r\n:esu_check\r\n'), text.indexOf('\r\n:esu_licence\r\n'));
    assert.ok(text.includes('call :esu_check !S_ESU!\r\n'));
    assert.match(check, /set "E_IDS=!CF_ESU_IDS_%~1!"/);
    assert.match(check, /for %%i in \(%E_IDS%\) do call :esu_licence %%i/);
    assert.match(check, /if "!CF_ESU_OK_%~1!"=="1" exit \/b 0/);
    assert.ok(lines.includes('for %%y in (1 2 3 4 5 6) do set "CF_ESU_OK_%%y="'), 'a pass is never taken from the environment');
    // a step that needs ESU and names no year cannot be checked: refused when staging, not rendered as "no ESU"
    expectCode(() => renderInstallScript(plan({ steps: [{ ...esuSteps[1], esuYear: undefined }] }), host, { version: '1', generatedAt: 'x', payloadSize, esuActivationIds: ids }), 'MEDIA_PLAN_ESU_YEAR');
    expectCode(() => renderInstallScript(plan(), host, { version: '1', generatedAt: 'x', payloadSize, esuActivationIds: [{ year: 7, id: ids[0].id }] }), 'MEDIA_BAD_ACTIVATION_ID');
  });

  test('the self-test constant is the SHA-256 of "abc"; sha256.vbs is CRLF ASCII VBScript', () => {
    assert.equal(HASH_SELFTEST_SHA256, sha('abc'));
    const vbs = sha256VbsScript();
    assert.ok(/^[\x0a\x0d\x20-\x7e]*$/.test(vbs));
    assert.match(vbs, /CreateObject\("System\.Security\.Cryptography\.SHA256Managed"\)/);
    assert.match(vbs, /TransformFinalBlock/);
  });
});

describe('the install.cmd template (src/media/templates/install.cmd.tmpl)', () => {
  const template = installScriptTemplate();
  const lines = template.split(/\r?\n/);

  test('every registry read whose output is used starts reg.exe alone (:reg_query), never inside a for /f, and each reader deletes its file', () => {
    const code = lines.filter((l) => !/^\s*rem /i.test(l));
    // a for /f over a command starts a cmd.exe to run it in: two process starts per reading
    assert.deepEqual(code.filter((l) => /\bfor \/f\b.*\('[^']*reg\.exe/i.test(l)), []);
    const reads = code.map((l, i) => ({ l, i })).filter(({ l }) => /^call :reg_query /.test(l));
    assert.ok(reads.length >= 6, `${reads.length} registry reads`);
    for (const { l, i } of reads) {
      const variable = l.split(' ')[2];
      assert.match(variable, /^Q_REG_[A-Z]+$/, l);
      assert.equal(reads.filter((r) => r.l.split(' ')[2] === variable).length, 1, `${variable} names one reading's file (a reading inside another's loop must not take its name)`);
      assert.match(code[i + 1], new RegExp(`^if exist "%${variable}%" for /f "usebackq[^"]*" %%[a-z] in \\("%${variable}%"\\) do `), code[i + 1]);
      assert.ok(code.slice(i + 1, i + 6).includes(`del "!${variable}!" >nul 2>&1`), `${variable}: its file is deleted after the reading`);
    }
    // the file is new for each reading (:temp_file), and reg.exe does not run when none could be had
    const bodyOf = (label: string): string[] => code.slice(code.indexOf(label) + 1, code.indexOf(label) + 5);
    assert.deepEqual(bodyOf(':reg_query'), [
      'call :temp_file %1',
      'if not defined %1 exit /b 0',
      '%CF_SYS%\\reg.exe query %2 %3 %4 %5 >"!%1!" 2>nul',
      'exit /b 0',
    ]);
    // a name drawn that is taken by a file which cannot be deleted gives no file at all: its content is not this run's
    assert.deepEqual(bodyOf(':temp_file'), [
      'set "%1=%TEMP%\\cabferry-%RANDOM%%RANDOM%.txt"',
      'del /f /q "!%1!" >nul 2>&1',
      'if exist "!%1!" set "%1="',
      'exit /b 0',
    ]);
    // the hasher's output goes through the same file, and no hasher runs without one
    assert.ok(code.some((l, i) => l === 'call :temp_file H_TMP' && code[i + 1] === 'if not defined H_TMP goto :hash_file_read'));
    assert.equal(code.filter((l) => l.includes('cabferry-%RANDOM%')).length, 1, 'one place draws a temp file name');
  });

  test('every call and goto target is a label of the template, and every label is reached', () => {
    const labels = lines.filter((l) => /^:[a-z_]+\s*$/i.test(l)).map((l) => l.slice(1).trim().toLowerCase());
    assert.equal(new Set(labels).size, labels.length, 'no label twice');
    const code = lines.filter((l) => !/^\s*rem /i.test(l)).join('\n');
    // the rendered step table (@@STEPTABLE@@) calls :step and jumps to :stopped; @@ASSUMED@@ calls :assumed_installed, @@DONEKBS@@ :done_verdict
    const targets = [...code.matchAll(/\b(?:call|goto)\s+:([a-z_]+)/gi)].map((m) => m[1].toLowerCase()).concat(['step', 'stopped', 'assumed_installed', 'done_verdict']);
    assert.ok(targets.length > 30);
    for (const t of targets) assert.ok(labels.includes(t), `:${t} is called or jumped to but not defined`);
    // reached: by a call/goto, or by falling through from the line before (a label after a non-jump line)
    for (const l of labels) {
      const i = lines.findIndex((x) => x.trim().toLowerCase() === `:${l}`);
      const prev = lines.slice(0, i).reverse().find((x) => x.trim() !== '' && !/^\s*rem /i.test(x)) ?? '';
      const fallsThrough = !/^\s*(exit \/b|goto )/i.test(prev);
      assert.ok(targets.includes(l) || fallsThrough, `:${l} is never reached`);
    }
  });

  test('every installer starts below :step_install, whose first command drops the answers :done_snapshot took before the steps, and nothing enters that block past it', () => {
    // the rule behind the snapshot a resumed run re-checks its finished steps with: within a run the
    // host's packages change only when an installer runs, so its answers hold until the first one does
    const start = lines.findIndex((l) => l.trim() === ':step_install');
    const end = lines.findIndex((l) => l.trim() === ':step_interpret');
    assert.ok(start > 0 && end > start);
    const isCode = (l: string) => l.trim() !== '' && !/^\s*rem /i.test(l);
    assert.equal(lines.slice(start + 1).find(isCode), 'set "CF_DONE_VERDICTS="');
    // wusa, pkgmgr, an .exe payload run as itself or through the test build's runner
    const installers = lines.map((l, i) => ({ l, i })).filter(({ l }) => isCode(l) && /"!CF_(WUSA|PKGMGR|EXE_RUNNER)!"|""!CF_PAYLOADS!!S_FILE!"/.test(l));
    assert.equal(installers.length, 4, installers.map(({ l }) => l).join('\n'));
    for (const { l, i } of installers) assert.ok(i > start && i < end, `line ${i + 1} starts an installer outside :step_install: ${l}`);
    const inner = lines.slice(start + 1, end).filter((l) => /^:[a-z_]+\s*$/i.test(l)).map((l) => l.trim().slice(1).toLowerCase());
    lines.forEach((l, i) => {
      if (!isCode(l) || (i > start && i < end)) return;
      for (const m of l.matchAll(/\b(?:call|goto)\s+:([a-z_]+)/gi)) assert.ok(!inner.includes(m[1].toLowerCase()), `line ${i + 1} enters the installers' block at :${m[1]}, past the line that drops the snapshot's answers`);
    });
    // and the answers are given in one place, :done_snapshot, which runs before the step table
    const given = lines.map((l, i) => ({ l, i })).filter(({ l }) => isCode(l) && /set "CF_DONE_VERDICTS=[^"]/.test(l));
    assert.equal(given.length, 1);
    const doneSnapshot = lines.findIndex((l) => l.trim() === ':done_snapshot');
    const nextLabel = lines.findIndex((l, i) => i > doneSnapshot && /^:[a-z_]+\s*$/i.test(l));
    assert.ok(given[0].i > doneSnapshot && given[0].i < nextLabel, 'set in :done_snapshot');
    const callers = lines.filter((l) => isCode(l) && /call :done_snapshot\b/i.test(l));
    assert.deepEqual(callers, ['call :done_snapshot']);
    assert.ok(lines.indexOf('call :done_snapshot') < lines.indexOf('@@STEPTABLE@@'));
  });

  test('S1: every variable install.cmd keeps its state in is cleared before its first use, whatever the environment that started it holds; what it takes from the environment is not', () => {
    // the rendered script: the step table and the exit code block set variables of their own (S_SWITCHES, S_MEANING)
    const exeStep: PlanStep = { n: 5, action: 'install', kb: 'KB948465', file: 'Windows6.0-KB948465-X64.exe', sha256: sha('d'), kind: 'service-pack', reason: 'r', switches: ['/quiet'] };
    const text = render(plan({ steps: [...steps, exeStep], assumedInstalled: ['KB958488'] }));
    const code = text.split('\r\n').filter((l) => !/^\s*rem /i.test(l));
    // (what a line echoes, and an installer code's text for the operator, are text: "set" there names no variable)
    const commands = code.map((l) => l.replace(/\becho .*$/, '').replace(/set "S_TEXT=[^"]*"/g, 'set "S_TEXT="'));
    const names = new Set<string>();
    for (const pattern of [
      /\bset (?:\/a )?"?([A-Za-z][A-Za-z0-9_]*)/g, /!([A-Za-z][A-Za-z0-9_]*)[!:]/g, /(?<!%)%([A-Za-z][A-Za-z0-9_]*)[%:]/g, /\bdefined ([A-Za-z][A-Za-z0-9_]*)/g,
      // a variable named to a subroutine that sets it
      /\bcall :(?:keep_least|decimal_part|filetime_hex|wmic_timestamp) ([A-Za-z][A-Za-z0-9_]*)/g,
    ]) for (const l of commands) for (const m of l.matchAll(pattern)) names.add(m[1]);
    // what it reads from the environment on purpose: the host's own variables, cmd's dynamic ones, and the test build's hooks
    const inputs = new Set(['COMPUTERNAME', 'DATE', 'TIME', 'RANDOM', 'errorlevel', 'PROCESSOR_ARCHITECTURE', 'PROCESSOR_ARCHITEW6432', 'SystemDrive', 'SystemRoot', 'TEMP']);
    const own = [...names].filter((n) => !inputs.has(n) && !n.startsWith('CABFERRY_'));
    assert.ok(own.length > 100 && own.includes('CF_VERDICT_') && own.includes('CF_QFE_') && own.includes('S_SWITCHES'), own.join(' '));
    // one child cmd lists every prefix ("set P1&set P2&..."; no space before an &, which Wine's set would take as part of the prefix)
    const clearing = code.findIndex((l) => /^for \/f "delims==" %%v in \('set [A-Z_]+(?:\^&set [A-Z_]+)*'\) do set "%%v="$/.test(l));
    assert.ok(clearing > 0, 'a line clears the prefixes');
    const prefixes = /\('(.*)'\)/.exec(code[clearing])![1].split('^&').map((c) => c.replace(/^set /, ''));
    // the same list is set first, so that set lists at least one variable of each
    assert.equal(code[clearing - 1], `for %%p in (${prefixes.join(' ')}) do set "%%p=1"`);
    for (const n of own) assert.ok(prefixes.some((p) => n.toUpperCase().startsWith(p)), `${n} is not of a prefix cleared at the start`);
    for (const p of prefixes) assert.ok(own.some((n) => n.toUpperCase().startsWith(p)), `${p} clears no variable of install.cmd's`);
    for (const n of [...inputs, 'CABFERRY_WUSA']) assert.ok(!prefixes.some((p) => n.toUpperCase().startsWith(p)), `${n} would be cleared`);
    // before any of them is set or read: right after the setlocal, with delayed expansion off
    assert.equal(code[clearing - 2], 'setlocal enableextensions disabledelayedexpansion');
    assert.ok(!code.slice(0, clearing - 2).some((l) => /\bset |!|defined /.test(l)), code.slice(0, clearing - 2).join('\n'));
  });

  test('H1: each install step carries its payload\'s size in bytes as decimal digits, over 2 GiB too; a payload of no known size is refused when staging', () => {
    const sizes: Record<string, number> = { 'Windows6.0-KB4493730-x64.msu': 0, 'Windows6.0-KB4474419-v4-x64.msu': 4294967295, 'Windows6.0-KB4499180-x64.cab': 2147483649 };
    const text = renderInstallScript(plan(), host, { version: '1', generatedAt: 'x', payloadSize: (f) => sizes[f] });
    assert.deepEqual(text.split('\r\n').filter((l) => l.startsWith('call :step ')).map((l) => l.split(' ').slice(3).filter((_, i) => i === 0 || i === 6).join(' ')), [
      'install 0', 'install 4294967295', 'reboot', 'install 2147483649',
    ]);
    for (const bad of [undefined, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      expectCode(() => renderInstallScript(plan(), host, { version: '1', generatedAt: 'x', payloadSize: (f) => (f === 'Windows6.0-KB4474419-v4-x64.msu' ? bad : 1) }), 'MEDIA_PLAN_PAYLOAD_SIZE');
    }
  });

  test('H1: :step_payload compares the file\'s size with the step\'s as text, before any hasher and with /skiphashcheck too, and a difference is logged payload-wrong-size', () => {
    const isCode = (l: string) => l.trim() !== '' && !/^\s*rem /i.test(l);
    const block = (label: string) => {
      const start = lines.indexOf(label);
      assert.ok(start > 0, label);
      const end = lines.findIndex((l, i) => i > start && /^:[a-z_]+\s*$/i.test(l));
      return lines.slice(start + 1, end).filter(isCode);
    };
    assert.ok(block(':step').includes('set "S_BYTES=%~8"'));
    const payload = block(':step_payload');
    const measured = payload.indexOf('for %%f in ("%CF_PAYLOADS%%S_FILE%") do set "S_SIZE=%%~zf"');
    const compared = payload.indexOf('if defined S_SIZE if not "!S_SIZE!"=="!S_BYTES!" goto :step_wrong_size');
    assert.ok(measured > 0 && compared > measured, payload.join('\n'));
    // before the /skiphashcheck jump and the hasher: nothing else is asked of a file of the wrong size
    assert.ok(compared < payload.findIndex((l) => l.includes('"!CF_HASHER!"=="none"')) && compared < payload.findIndex((l) => l.includes('call :hash_file')));
    // cmd compares numbers as 32-bit signed: two sizes over 2 GiB would compare equal. Text only
    assert.ok(!lines.some((l) => isCode(l) && /S_(SIZE|BYTES)!?\s+(EQU|NEQ|LSS|LEQ|GTR|GEQ)\b|(EQU|NEQ|LSS|LEQ|GTR|GEQ)\s+!?S_(SIZE|BYTES)/i.test(l)));
    const wrong = block(':step_wrong_size');
    assert.ok(wrong.includes('call :log payload-wrong-size') && wrong.some((l) => /!S_SIZE! bytes.*!S_BYTES! bytes/.test(l)) && wrong.some((l) => /cabferry verify-media/.test(l)), wrong.join('\n'));
  });

  test('the template uses exactly the variables the renderer fills in', () => {
    const used = new Set([...template.matchAll(/@@([A-Z]+)@@/g)].map((m) => m[1]));
    assert.deepEqual([...used].sort(), [...TEMPLATE_VARIABLES].sort());
    assert.throws(() => fillTemplate('@@NOPE@@', {}), /@@NOPE@@/);
  });

  test('the template is plain ASCII, and its own text needs no rendering beyond the variables', () => {
    assert.ok(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(template));
    assert.match(lines[0], /^@echo off/);
  });
});

describe('exit codes and result logs', () => {
  test('cmd.exe reports HRESULTs as signed numbers', () => {
    assert.equal(toSigned(0x80096010), -2146869232);
    assert.equal(toSigned(0x80240017), -2145124329);
    assert.equal(hex32(-2146869232), '0x80096010');
    assert.equal(interpretExitCode(2359302).meaning, 'already-installed');
    assert.equal(interpretExitCode(3010).outcome, 'reboot');
    assert.equal(interpretExitCode(1641).outcome, 'reboot');
    assert.equal(interpretExitCode(-2145124329).outcome, 'skip');
    assert.equal(interpretExitCode(-2146869232).meaning, 'sha2-support-missing');
    assert.deepEqual([interpretExitCode(1603).meaning, interpretExitCode(1603).outcome], ['failed', 'stop']);
  });

  test('parseResultLog reads plan id, script kind and host confirmation', () => {
    const id = 'a'.repeat(64);
    const log = parseResultLog([
      `RUN plan=${id} script=test host=SRV-01 build=6002 arch=amd64 hasher=override autoreboot=0 time=2026-11-23T10:00:00`,
      `RESULT plan=${id} script=test step=1 kb=KB4493730 action=install code=3010 meaning=reboot-required confirmed=pending how=cbs host=SRV-01 time=t`,
      `RESULT plan=${id} script=test step=1 kb=KB4493730 action=install code=0 meaning=confirmed-on-host confirmed=yes how=qfe host=SRV-01 time=t`,
      `RESULT plan=${id} script=test step=2 kb=KB4474419 action=install code=- meaning=esu-not-activated confirmed=- how=- host=SRV-01 time=t`,
      `END plan=${id} script=test status=stopped reason=- code=1 host=SRV-01 time=t`,
    ].join('\r\n'));
    assert.deepEqual(log.results.map((r) => [r.plan === id, r.script, r.code, r.confirmed, r.how]), [
      [true, 'test', 3010, 'pending', 'cbs'], [true, 'test', 0, 'yes', 'qfe'], [true, 'test', null, null, null],
    ]);
    assert.equal(log.runs[0].plan, id);
    assert.equal(log.ends[0].script, 'test');
    assert.deepEqual(log.unreadable, []);
  });

  test('parseResultLog reads the three line forms, keeps times with spaces, and sets aside what it cannot read', () => {
    const log = parseResultLog([
      'RUN host=SRV-01 build=6002 arch=amd64 hasher=certutil autoreboot=1 time=2026-11-23T10:00:00',
      'RESULT step=2 kb=KB4474419 action=install code=3010 meaning=reboot-required host=SRV-01 time=Mon 11/23/2026 10:01:02.50',
      'RESULT step=3 kb=- action=reboot code=0 meaning=reboot-requested host=SRV-01 time=2026-11-23T10:01:03',
      'garbage',
      'RESULT step=x kb=- action=reboot code=0 meaning=m host=SRV-01 time=t',
      'END status=restart reason=- code=3010 host=SRV-01 time=2026-11-23T10:01:04',
      '',
    ].join('\r\n'));
    assert.deepEqual(log.runs.map((r) => [r.hasher, r.autoreboot]), [['certutil', true]]);
    assert.deepEqual(log.results.map((r) => [r.step, r.kb, r.code, r.meaning, r.time]), [
      [2, 'KB4474419', 3010, 'reboot-required', 'Mon 11/23/2026 10:01:02.50'],
      [3, null, 0, 'reboot-requested', '2026-11-23T10:01:03'],
    ]);
    assert.deepEqual(log.ends.map((e) => [e.status, e.reason, e.code]), [['restart', null, 3010]]);
    assert.deepEqual(log.unreadable.map((u) => u.line), [4, 5]);
  });
});
