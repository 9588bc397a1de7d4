import type { Command } from 'commander';
import { ExitCode } from '../errors';
import { stageMedia, type StageResult } from '../media';
import { planGoalFromOptions } from '../planner/present';
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
    .option('--knowledge-base <dir>', 'use this knowledge base folder instead of the one shipped with cabferry')
    .option('--json', 'print one JSON document describing what was staged')
    .action(
      action((opts: StageCliOptions) => {
        const result = stageMedia({
          hosts: opts.host,
          to: opts.to,
          catalog: opts.catalog,
          goal: planGoalFromOptions(opts),
          allowIncomplete: Boolean(opts.allowIncomplete),
          signKey: opts.signKey,
          signCert: opts.signCert,
          knowledgeBase: opts.knowledgeBase,
          progress: isInteractive() && !opts.json ? (line) => process.stderr.write(`${line}\n`) : undefined,
        });
        for (const h of result.hosts) if (!h.complete) warn(`${h.name}: INCOMPLETE plan staged (missing ${h.missing.join(', ')})`);
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
  knowledgeBase?: string;
  json?: boolean;
}

function stageText(r: StageResult): string {
  const copied = r.payloads.filter((p) => p.copied).length;
  const lines = [
    `Staged ${r.hosts.length} host(s) into ${r.dir}`,
    ...r.hosts.map((h) => `  ${h.name}: ${h.steps} step(s)${h.complete ? '' : `  INCOMPLETE (missing ${h.missing.join(', ')})`}  → ${h.installScript}`),
    `Payloads: ${r.payloads.length} (${copied} copied, ${r.payloads.length - copied} already there), ${r.bytesCopied} bytes written`,
    ...(r.removed.length > 0 ? [`Removed ${r.removed.length} stale file(s): ${r.removed.join(', ')}`] : []),
    `Manifest: ${r.files} files${r.signed ? ', signed (manifest.json.p7s)' : ', not signed'}`,
  ];
  return lines.join('\n') + '\n';
}
