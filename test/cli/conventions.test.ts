import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { buildProgram } from '../../src/cli/main';
import { EXAMPLES } from '../../src/cli/help';
import { createProgress } from '../../src/cli/progress';
import { openCatalog } from '../../src/catalog/catalog';
import { importPayloads, type ProgressEvent } from '../../src/importer/import';
import { loadTrustAnchors } from '../../src/authenticode/trust';
import type { Command } from 'commander';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/** Issue 17, "CLI conventions": what every command does the same way. */

/** Every command path of the program ("cabferry", "cabferry catalog list", …) with its Command. */
function allCommands(): [string, Command][] {
  const out: [string, Command][] = [];
  const visit = (c: Command, p: string): void => {
    out.push([p, c]);
    for (const sub of c.commands) visit(sub, `${p} ${sub.name()}`);
  };
  visit(buildProgram(), 'cabferry');
  return out;
}

test('every usage error commander finds is one stderr line with a code, exit 2, and a pointer to --help', () => {
  const cases: [string[], string, string][] = [
    [['stage', '--to', 'x'], 'USAGE_MISSING_OPTION', 'cabferry stage --help'],
    [['extract', 'x.cab'], 'USAGE_MISSING_OPTION', 'cabferry extract --help'],
    [['catalog', 'list', '--bogus'], 'USAGE_UNKNOWN_OPTION', 'cabferry catalog list --help'],
    [['lst'], 'USAGE_UNKNOWN_COMMAND', 'cabferry --help'],
    [['report'], 'USAGE_MISSING_ARGUMENT', 'cabferry report --help'],
    [['report', 'a', 'b'], 'USAGE_TOO_MANY_ARGUMENTS', 'cabferry report --help'],
    [['import', '--catalog'], 'USAGE_OPTION_NEEDS_VALUE', 'cabferry import --help'],
  ];
  for (const [args, code, help] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0]!, new RegExp(`^cabferry: .*\\[${code}\\]; see \`${help}\`$`), args.join(' '));
  }
});

test('a usage error raised by a command (a bad --at) is one line with its code and the same pointer to --help', () => {
  const r = runCli(['verify', '--trust', fixturePath('pki', 'root.pem'), '--at', 'yesterday-ish', fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^cabferry: --at "yesterday-ish" is not a date .*\[BAD_DATE\]; see `cabferry verify --help`\n$/);
});

test('every --help marks required options as required and ends with two or three examples of options the command has', () => {
  for (const [name, command] of allCommands()) {
    const examples = EXAMPLES[name];
    assert.ok(examples !== undefined, `${name} has examples`);
    assert.ok(examples.length >= 2 && examples.length <= 3, `${name}: ${examples.length} examples`);
    for (const example of examples) {
      assert.ok(example === name || example.startsWith(`${name} `) || name === 'cabferry', `${name}: ${example}`);
      if (command.commands.length > 0) continue; // a group's examples name its subcommands
      const known = new Set(command.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
      for (const flag of example.split(/\s+/).filter((w) => /^--?[a-z]/.test(w))) assert.ok(known.has(flag), `${example}: ${name} has no ${flag}`);
    }
    const help = command.helpInformation() + '';
    for (const o of command.options) {
      if (!o.mandatory) continue;
      const row = help.split('\n').findIndex((l) => l.trimStart().startsWith(o.flags));
      const text = help.split('\n').slice(row, row + 3).join(' ');
      assert.match(text, /\(required\)/, `${name} ${o.flags}`);
    }
  }
  const r = runCli(['stage', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Examples:\n {2}cabferry stage --host .*\n {2}cabferry stage .*\n$/);
  for (const [cmd, flag] of [['stage', '--host'], ['stage', '--to'], ['plan', '--host'], ['extract', '-o, --output']] as const) {
    assert.match(runCli([cmd, '--help']).stdout, new RegExp(`${flag} <[^>]+>[^\\n]*(\\n {10,}[^\\n]*)*\\(required\\)`), `${cmd} ${flag}`);
  }
});

test('defaults are shown once and never as an empty list', () => {
  for (const [name, command] of allCommands()) {
    for (const o of command.options) {
      const text = command.createHelp().optionDescription(o);
      assert.ok((text.match(/default/g) ?? []).length <= 1, `${name} ${o.flags}: ${text}`);
      assert.doesNotMatch(text, /\(default: \[\]\)/, `${name} ${o.flags}`);
    }
  }
});

test('one overwrite policy: extract, collect-script and export-blob all refuse an existing file without --force', () => {
  const dir = tempDir();
  const cab = fixturePath('signed', 'unsigned.cab');
  const out = path.join(dir, 'out');
  assert.equal(runCli(['extract', cab, '-o', out]).status, 0);
  const again = runCli(['extract', cab, '-o', out]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /\[OUTPUT_EXISTS\]; see `cabferry extract --help`/);
  assert.equal(runCli(['extract', '--force', cab, '-o', out]).status, 0);

  const script = path.join(dir, 'collect.cmd');
  assert.equal(runCli(['collect-script', '-o', script]).status, 0);
  assert.match(runCli(['collect-script', '-o', script]).stderr, /\[OUTPUT_EXISTS\]/);
  assert.equal(runCli(['collect-script', '--force', '-o', script]).status, 0);
  for (const c of ['extract', 'collect-script', 'catalog export-blob']) {
    assert.match(runCli([...c.split(' '), '--help']).stdout, /--force/, c);
  }
});

test('the progress bar is sized before the work starts and is full exactly at the end (a fake terminal)', () => {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 }) as unknown as NodeJS.WriteStream;
  let drawn = '';
  (stream as unknown as PassThrough).on('data', (c: Buffer) => (drawn += c.toString()));
  const bar = createProgress({ unit: 'file(s)', stream });
  bar.setTotal(228);
  for (let i = 0; i < 228; i++) bar.advance(1, `file-${i}.cab`);
  bar.stop();
  assert.match(drawn, /228\/228 file\(s\) 100%/);
  assert.doesNotMatch(drawn, /\b(\d+)\/(?!228\b)\d+ file/, 'never another total');
  // not a terminal, --json or --quiet: nothing at all
  const plain = new PassThrough();
  let written = '';
  plain.on('data', (c: Buffer) => (written += c.toString()));
  const none = createProgress({ unit: 'file(s)', stream: plain as unknown as NodeJS.WriteStream });
  none.setTotal(3);
  none.advance(3);
  none.stop();
  const quiet = createProgress({ unit: 'file(s)', stream, suppressed: true });
  quiet.setTotal(1);
  assert.equal(written, '');
});

test('importing a folder of 228 files announces 228 before reading any, and reports 228 results', async () => {
  const dir = tempDir();
  const src = path.join(dir, 'downloads');
  fs.mkdirSync(src);
  for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(src, `junk-${String(i).padStart(3, '0')}.cab`), `not a cabinet ${i}`);
  for (let i = 0; i < 27; i++) fs.writeFileSync(path.join(src, `notes-${i}.txt`), 'readme');
  fs.copyFileSync(fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), path.join(src, 'Windows6.0-KB4493730-x64.msu'));
  const catalog = openCatalog({ dir: path.join(dir, 'cat') });
  try {
    const events: ProgressEvent[] = [];
    const summary = await importPayloads(catalog, [src], { trust: loadTrustAnchors([fixturePath('pki', 'root.pem')]), knowledgeBase: null, onProgress: (e) => events.push(e) });
    assert.deepEqual(events[0], { type: 'total', items: 228 });
    assert.equal(events.filter((e) => e.type === 'result').length, 228);
    assert.equal(summary.results.length, 228);
  } finally {
    catalog.close();
  }
});

test('import --quiet prints the summary and the rejected files counted by code, no line per file', () => {
  const dir = tempDir();
  const r = runCli(['import', '--quiet', '--catalog', path.join(dir, 'cat'), '--trust', fixturePath('pki', 'root.pem'),
    fixturePath('payloads', 'Windows6.0-KB4493730-x64.msu'), fixturePath('signed', 'unsigned.cab')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, '');
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.replace(/ — .*/, '')), [
    '1 imported, 0 duplicate(s), 1 rejected',
    '  1 rejected SIG_UNSIGNED (run without --quiet, or with --json, to see each file)',
  ]);
});
