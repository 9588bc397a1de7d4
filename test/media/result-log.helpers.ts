import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A result log as install.cmd leaves it on the medium: `results/HOST/PLANID/result.log`, one line
 * each, CRLF-terminated (cmd.exe's echo). The lines are written as given: a test that wants lines
 * install.cmd would not write writes them.
 */
export function writeResultLog(media: string, host: string, planId: string, lines: readonly string[]): void {
  const dir = path.join(media, 'results', host, planId);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'result.log'), lines.map((l) => `${l}\r\n`).join(''));
}
