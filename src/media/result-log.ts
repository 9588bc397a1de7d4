/**
 * The result log install.cmd writes on the media (results/HOST/PLAN/result.log), read back by
 * `cabferry report`. One line per event, `TYPE key=value … time=REST-OF-LINE` (the README's
 * "Result log" section describes it for admins who parse it):
 *   RUN    plan= script= host= build= arch= hasher= autoreboot= time=
 *   RESULT plan= script= step= kb= action= code= meaning= confirmed= how= host= time=
 *   END    plan= script= status= reason= code= host= time=
 * `plan` is the plan id, `script` release or test (a --test-build script), `confirmed` whether
 * the host lists the update (yes, pending = installed but a restart is outstanding, no, n/a,
 * - when nothing was installed), `how` where it was found (cbs, qfe, -).
 * `time` is last because %DATE% %TIME% (used where wmic cannot tell the time) contains spaces.
 * Logs of earlier versions have no plan=; their lines read with plan null.
 */

export type Confirmation = 'yes' | 'pending' | 'no' | 'n/a' | null;

interface Stamp { plan: string | null; script: string | null; host: string; time: string; line: number }
export interface RunRecord extends Stamp { build: string; arch: string; hasher: string; autoreboot: boolean }
export interface ResultRecord extends Stamp { step: number; kb: string | null; action: string; code: number | null; meaning: string; confirmed: Confirmation; how: string | null }
export interface EndRecord extends Stamp { status: string; reason: string | null; code: number }

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
    const stamp: Stamp = { plan: dash(f.get('plan')), script: dash(f.get('script')), host: f.get('host') ?? '', time: (m[3] ?? '').trim(), line };
    const rawCode = f.get('code');
    const code = rawCode === undefined || rawCode === '-' ? null : Number(rawCode);
    if (code !== null && !Number.isInteger(code)) { log.unreadable.push({ line, text: trimmed }); return; }
    if (m[1] === 'RUN') {
      log.runs.push({ ...stamp, build: f.get('build') ?? '', arch: f.get('arch') ?? '', hasher: f.get('hasher') ?? '', autoreboot: f.get('autoreboot') === '1' });
    } else if (m[1] === 'RESULT') {
      const step = Number(f.get('step'));
      if (!Number.isInteger(step) || !f.get('meaning')) { log.unreadable.push({ line, text: trimmed }); return; }
      log.results.push({ ...stamp, step, kb: dash(f.get('kb')), action: f.get('action') ?? '', code, meaning: f.get('meaning') ?? '', confirmed: confirmation(f.get('confirmed')), how: dash(f.get('how')) });
    } else {
      log.ends.push({ ...stamp, status: f.get('status') ?? '', reason: dash(f.get('reason')), code: code ?? 0 });
    }
  });
  return log;
}

function confirmation(v: string | undefined): Confirmation {
  return v === 'yes' || v === 'pending' || v === 'no' || v === 'n/a' ? v : null;
}
