/**
 * The result log install.cmd writes on the media (results/HOST/PLAN/result.log), read back by
 * `cabferry report`. One line per event, `TYPE key=value … time=REST-OF-LINE` (the README's
 * "Result log" section describes it for admins who parse it):
 *   RUN    plan= script= host= build= arch= hasher= autoreboot= time=
 *   RESULT plan= script= step= kb= action= code= meaning= confirmed= how= host= time=
 *   END    plan= script= status= reason= code= host= time=
 * `plan` is the plan id, `script` release or test (a --test-build script), `confirmed` whether
 * the host lists the update (yes, pending = installed but a restart is outstanding, no, n/a,
 * - when nothing was installed), `how` where it was found (cbs, qfe, -; on a reboot-done line, shutdown:
 * the restart proven by Windows' ShutdownTime, which install.cmd writes since review 6 - an older one's
 * reboot-done, how=-, may rest on weaker proofs).
 * `time` is last because %DATE% %TIME% (used where wmic cannot tell the time) contains spaces.
 * Logs of earlier versions have no plan= and no script= (both came in one release); their lines
 * read with plan null. A line install.cmd cannot have written is unreadable, not read in part: a key
 * twice (the last would win: "meaning=failed … meaning=installed"), plan= without script= or the
 * reverse, a code or step that is not a decimal number as cmd.exe prints it.
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

const TYPES = new Set(['RUN', 'RESULT', 'END']);
/**
 * install.cmd writes printable text only: a control character (a CR inside a line, an escape) is
 * no line it wrote. (A regular expression that split off ` time=` lazily backtracked on such a
 * line: 64,000 ` time=x` and a CR took 70 s.)
 */
const CONTROL = /[\x00-\x1f\x7f]/;

/** A line's type, its key=value part and its time (all after the first ` time=`), in one pass; null when it is none of the three forms. */
function splitLine(line: string): { type: string; keyed: string; time: string } | null {
  const space = line.indexOf(' ');
  if (space < 0 || !TYPES.has(line.slice(0, space))) return null;
  const rest = line.slice(space + 1);
  const at = rest.indexOf(' time=');
  return at < 0 ? { type: line.slice(0, space), keyed: rest, time: '' } : { type: line.slice(0, space), keyed: rest.slice(0, at), time: rest.slice(at + ' time='.length).trim() };
}

/** The key=value fields of a line; null when a key appears twice (install.cmd writes each once). */
function fields(text: string): Map<string, string> | null {
  const map = new Map<string, string>();
  for (const part of text.split(' ')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq);
    if (map.has(key)) return null;
    map.set(key, part.slice(eq + 1));
  }
  return map;
}

/** A number as cmd.exe prints %errorlevel% or a step number: decimal, no sign but a minus, no leading zero. */
const DECIMAL = /^(?:0|-?[1-9][0-9]*)$/;
const decimal = (v: string | undefined): number | null => (v !== undefined && DECIMAL.test(v) ? Number(v) : null);

const dash = (v: string | undefined): string | null => (v === undefined || v === '-' || v === '' ? null : v);

export function parseResultLog(text: string): ResultLog {
  const log: ResultLog = { runs: [], results: [], ends: [], unreadable: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    // tested before trimming: a CR at a line's end is no more install.cmd's than one inside it
    const m = CONTROL.test(raw) ? null : splitLine(trimmed);
    if (!m) { log.unreadable.push({ line, text: trimmed }); return; }
    const f = fields(m.keyed);
    // plan= and script= came in one release of install.cmd: a line with one of them is no line it wrote
    if (f === null || f.has('plan') !== f.has('script')) { log.unreadable.push({ line, text: trimmed }); return; }
    const stamp: Stamp = { plan: dash(f.get('plan')), script: dash(f.get('script')), host: f.get('host') ?? '', time: m.time, line };
    const rawCode = f.get('code');
    const code = rawCode === undefined || rawCode === '-' ? null : decimal(rawCode);
    if (rawCode !== undefined && rawCode !== '-' && code === null) { log.unreadable.push({ line, text: trimmed }); return; }
    if (m.type === 'RUN') {
      log.runs.push({ ...stamp, build: f.get('build') ?? '', arch: f.get('arch') ?? '', hasher: f.get('hasher') ?? '', autoreboot: f.get('autoreboot') === '1' });
    } else if (m.type === 'RESULT') {
      const step = decimal(f.get('step'));
      if (step === null || !f.get('meaning')) { log.unreadable.push({ line, text: trimmed }); return; }
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
