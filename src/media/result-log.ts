/**
 * The result log install.cmd writes on the media (results/NAME/result.log), read back by
 * `cabferry report`. One line per event, `TYPE key=value … time=REST-OF-LINE`:
 *   RUN    host= build= arch= hasher= autoreboot= time=
 *   RESULT step= kb= action= code= meaning= host= time=
 *   END    status= reason= code= host= time=
 * `time` is last because %DATE% %TIME% (used where wmic cannot tell the time) contains spaces.
 */

export interface RunRecord { host: string; build: string; arch: string; hasher: string; autoreboot: boolean; time: string; line: number }
export interface ResultRecord { step: number; kb: string | null; action: string; code: number; meaning: string; host: string; time: string; line: number }
export interface EndRecord { status: string; reason: string | null; code: number; host: string; time: string; line: number }

export interface ResultLog {
  runs: RunRecord[];
  results: ResultRecord[];
  ends: EndRecord[];
  /** lines that are not one of the three forms (1-based line numbers) */
  unreadable: { line: number; text: string }[];
}

const LINE = /^(RUN|RESULT|END) (.*?)(?: time=(.*))?$/;

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) map.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return map;
}

const dash = (v: string | undefined): string | null => (v === undefined || v === '-' || v === '' ? null : v);

export function parseResultLog(text: string): ResultLog {
  const log: ResultLog = { runs: [], results: [], ends: [], unreadable: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const m = LINE.exec(trimmed);
    if (!m) { log.unreadable.push({ line, text: trimmed }); return; }
    const f = fields(m[2]);
    const time = (m[3] ?? '').trim();
    const code = Number(f.get('code') ?? '0');
    if (m[1] === 'RUN') {
      log.runs.push({ host: f.get('host') ?? '', build: f.get('build') ?? '', arch: f.get('arch') ?? '', hasher: f.get('hasher') ?? '', autoreboot: f.get('autoreboot') === '1', time, line });
    } else if (m[1] === 'RESULT') {
      const step = Number(f.get('step'));
      if (!Number.isInteger(step) || !Number.isInteger(code) || !f.get('meaning')) { log.unreadable.push({ line, text: trimmed }); return; }
      log.results.push({ step, kb: dash(f.get('kb')), action: f.get('action') ?? '', code, meaning: f.get('meaning') ?? '', host: f.get('host') ?? '', time, line });
    } else {
      if (!Number.isInteger(code)) { log.unreadable.push({ line, text: trimmed }); return; }
      log.ends.push({ status: f.get('status') ?? '', reason: dash(f.get('reason')), code, host: f.get('host') ?? '', time, line });
    }
  });
  return log;
}
