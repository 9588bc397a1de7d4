import type { Command } from 'commander';
import { loadTrustAnchors } from '../authenticode/trust';
import { ExitCode } from '../errors';
import { verifyMedia, type VerifyMediaReport } from '../media';
import { action, printJson } from './run';

export function register(program: Command): void {
  program
    .command('verify-media')
    .description('re-hash staged media against its manifest and check the manifest signature')
    .argument('<dir>', 'the media folder')
    .option('--trust <files...>', 'trust anchors (PEM/DER certificates) for manifest.json.p7s')
    .option('--json', 'print one JSON document')
    .action(
      action((dir: string, opts: { trust?: string[]; json?: boolean }) => {
        const trust = opts.trust ? loadTrustAnchors(opts.trust) : undefined;
        const report = verifyMedia(dir, { trust });
        if (opts.json) printJson(report);
        else process.stdout.write(verifyText(report));
        return report.ok ? ExitCode.ok : ExitCode.negative;
      }),
    );
}

function verifyText(r: VerifyMediaReport): string {
  const lines = [`${r.dir}: ${r.ok ? 'OK' : 'FAILED'} — ${r.checked} file(s) in the manifest (staged ${r.manifest.createdAt} by cabferry ${r.manifest.cabferryVersion})`];
  for (const m of r.missing) lines.push(`  missing:    ${m}`);
  for (const a of r.altered) lines.push(`  altered:    ${a.path} (${a.reason})`);
  for (const u of r.unexpected) lines.push(`  unexpected: ${u}`);
  const s = r.signature;
  if (s.status === 'valid') lines.push(`  signature:  valid, signed by "${s.signer}" (chain: ${s.chain.join(' → ')})`);
  else if (s.status === 'invalid') lines.push(`  signature:  INVALID [${s.code}] ${s.reason}`);
  else lines.push(`  signature:  ${s.status} (${s.reason})`);
  if (r.results.length > 0) lines.push(`  results from: ${r.results.join(', ')} (run cabferry report)`);
  return lines.join('\n') + '\n';
}
