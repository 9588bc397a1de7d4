import type { Command } from 'commander';
import { ExitCode, usageError } from '../errors';
import { consoleStepsText, stageMedia, type StageResult } from '../media';
import { isEncryptedKeyPem, MAX_PEM_BYTES } from '../media/signing-material';
import { readRegularFile } from '../io/regular-file';
import { printable } from '../io/printable';
import { incompleteReasons, planGoalFromOptions } from '../planner/present';
import { createProgress, mediaWorkOn } from './progress';
import { action, isInteractive, printJson, warn } from './run';

export function register(program: Command): void {
  program
    .command('stage')
    .description('plan each host and stage payloads, install scripts and a signed manifest onto media')
    .requiredOption('--host <files...>', 'host inventories (any format `cabferry plan` reads)')
    .requiredOption('--to <dir>', 'the media folder (e.g. the mounted USB stick)')
    .option('--catalog <dir>', 'the catalog the payloads come from')
    .option('--target <kbs...>', 'install these KBs (and what they need) instead of bringing the hosts fully current')
    .option('--security-only', 'security-only updates instead of monthly rollups')
    .option('--allow-incomplete', 'stage even when a plan misses prerequisites (marked loudly on the media)')
    .option('--sign-key <file>', 'PEM RSA private key: sign manifest.json (manifest.json.p7s)')
    .option('--sign-cert <file>', 'PEM certificate of that key, optionally followed by its chain')
    .option('--sign-pass-env <var>', 'the environment variable that holds the passphrase of an encrypted --sign-key (without it, a terminal is asked)')
    .option('--knowledge-base <dir>', 'use this knowledge base folder instead of the one shipped with cabferry')
    .option('--test-build', "stage test builds of install.cmd for cabferry's own tests: they honour the CABFERRY_* test hooks and say so; never for real hosts")
    .option('--json', 'print one JSON document describing what was staged')
    .action(
      action(async (opts: StageCliOptions) => {
        const passphrase = await signPassphrase(opts);
        const bar = createProgress({ unit: 'bytes', suppressed: opts.json === true });
        let result: StageResult;
        try {
          result = stageMedia({
            hosts: opts.host,
            to: opts.to,
            catalog: opts.catalog,
            goal: planGoalFromOptions(opts),
            allowIncomplete: Boolean(opts.allowIncomplete),
            signKey: opts.signKey,
            signCert: opts.signCert,
            signPassphrase: passphrase,
            signPassphraseHint: '--sign-pass-env VAR (an environment variable holding it), or by running stage on a terminal',
            knowledgeBase: opts.knowledgeBase,
            testBuild: opts.testBuild === true,
            progress: isInteractive() && !opts.json ? (line) => bar.interrupt(() => process.stderr.write(`${line}\n`)) : undefined,
            onWork: mediaWorkOn(bar),
          });
        } finally {
          bar.stop();
        }
        for (const w of result.warnings) warn(printable(w));
        for (const h of result.hosts) if (!h.complete) warn(`${h.name}: INCOMPLETE plan staged: ${printable(incompleteReasons(h).join('; '))}`);
        for (const h of result.hosts) if (h.consoleSteps.length > 0) warn(`${h.name}: ${consoleStepsText(h.consoleSteps)}`);
        if (opts.json) printJson(result);
        else process.stdout.write(stageText(result));
        return ExitCode.ok;
      }),
    );
}

interface StageCliOptions {
  host: string[];
  to: string;
  catalog?: string;
  target?: string[];
  securityOnly?: boolean;
  allowIncomplete?: boolean;
  signKey?: string;
  signCert?: string;
  signPassEnv?: string;
  knowledgeBase?: string;
  testBuild?: boolean;
  json?: boolean;
}

/**
 * The passphrase of an encrypted signing key: from the variable --sign-pass-env names, else asked
 * on the terminal (without echo); undefined when the key is not encrypted or nobody can be asked,
 * and the library then says how to supply it.
 */
export async function signPassphrase(opts: { signPassEnv?: string; signKey?: string }): Promise<string | undefined> {
  if (opts.signPassEnv !== undefined) {
    const value = process.env[opts.signPassEnv];
    if (value === undefined) throw usageError('SIGN_PASS_ENV_UNSET', `--sign-pass-env ${opts.signPassEnv}: that environment variable is not set`);
    return value;
  }
  if (opts.signKey === undefined || !process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  let pem: string;
  try {
    pem = readRegularFile(opts.signKey, { maxBytes: MAX_PEM_BYTES }).toString('utf8');
  } catch {
    return undefined; // the library names the unreadable file
  }
  if (!isEncryptedKeyPem(pem)) return undefined;
  return promptHidden(`passphrase for ${opts.signKey}: `);
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let typed = '';
    const finish = (error: Error | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(usageError('SIGN_PASS_CANCELLED', 'passphrase entry cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function stageText(r: StageResult): string {
  const copied = r.payloads.filter((p) => p.copied).length;
  const lines = [
    ...(r.testBuild ? ['TEST BUILD: the install scripts honour test hooks; never run them on a real host'] : []),
    `Staged ${r.hosts.length} host(s) into ${printable(r.dir)}`,
    ...r.hosts.map((h) => `  ${h.name}: ${h.steps} step(s)${h.complete ? '' : `  INCOMPLETE: ${printable(incompleteReasons(h).join('; '))}`}  → ${h.installScript}  plan ${h.planId}`),
    ...r.earlierResults.map((e) => e.samePlan
      ? e.movedFrom === null
        ? `  ${e.host}: results of this same plan kept in ${printable(e.path)} (install.cmd resumes from them)`
        : `  ${e.host}: results of this same plan, whose last run ended complete, moved to ${printable(e.path)}: the plan starts afresh on the host (install.cmd checks every update there again), and report counts only runs after this staging`
      : `  ${e.host}: results of an earlier ${e.planId === null ? 'plan (no id)' : `plan ${e.planId}`} kept in ${printable(e.path)}${e.movedFrom ? ` (moved there from ${e.movedFrom})` : ''}; they are history, not progress`),
    `Payloads: ${r.payloads.length} (${copied} copied, ${r.payloads.length - copied} already there), ${r.bytesCopied} bytes written`,
    ...(r.removed.length > 0 ? [`Removed ${r.removed.length} stale file(s): ${r.removed.join(', ')}`] : []),
    `Manifest: ${r.files} files${r.signed ? ', signed (manifest.json.p7s)' : ', not signed'}`,
  ];
  return lines.join('\n') + '\n';
}
