import { SingleBar } from 'cli-progress';
import type { MediaWork } from '../media/files';

/**
 * The one progress bar of every long command (import, stage, verify-media, export, catalog
 * check). The command sizes it to the real work before the work starts (files to import,
 * payloads to copy, files to re-hash), so it is full exactly when the work is done.
 *
 * Progress is decoration: it is drawn only when stderr is a terminal and the command prints
 * human text (never with --json, never with --quiet), and it never reaches stdout.
 */
export interface Progress {
  /** Set (or correct) how many units the whole run has. */
  setTotal(total: number): void;
  /** Count `units` more as done; `label` names what is being worked on now. */
  advance(units?: number, label?: string): void;
  /** Name what is being worked on now without counting anything. */
  label(label: string): void;
  /** Remove the bar (before printing a line to stdout, and at the end). */
  clear(): void;
  /** Draw the bar again after `clear()`. */
  resume(): void;
  /** Print a line of our own (to stderr) without tearing the bar: cleared first, drawn again after if it was shown. */
  interrupt(print: () => void): void;
  stop(): void;
}

export interface ProgressOptions {
  /** what one unit is, for the counter: "file(s)", "payload(s)"; "bytes" shows the counter as KiB, MiB … */
  unit: string;
  /** --json or --quiet: no bar at all */
  suppressed?: boolean;
  /** the stream to draw on; a bar is drawn only when it is a terminal (tests pass a fake TTY) */
  stream?: NodeJS.WriteStream;
}

/** A bar on a terminal, nothing otherwise. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.suppressed === true || !stream.isTTY) return silentProgress;
  return new TerminalProgress(options.unit, stream);
}

/** Stage's and verify-media's work (bytes read and copied) drawn on `progress`. */
export function mediaWorkOn(progress: Progress): (work: MediaWork) => void {
  return (work) => (work.type === 'total' ? progress.setTotal(work.bytes) : progress.advance(work.bytes, work.label));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const silentProgress: Progress = {
  setTotal: () => undefined,
  advance: () => undefined,
  label: () => undefined,
  clear: () => undefined,
  resume: () => undefined,
  interrupt: (print) => print(),
  stop: () => undefined,
};

class TerminalProgress implements Progress {
  private readonly bar: SingleBar;
  private value = 0;
  private total = 0;
  private current = '';
  private running = false;

  constructor(unit: string, private readonly stream: NodeJS.WriteStream) {
    const bytes = unit === 'bytes';
    this.bar = new SingleBar({
      stream,
      format: `[{bar}] {value}/{total}${bytes ? '' : ` ${unit}`} {percentage}% | {current}`,
      ...(bytes ? { formatValue: (v: number, _o: unknown, type: string) => (type === 'value' || type === 'total' ? formatBytes(v) : String(v)) } : {}),
      barsize: 24,
      hideCursor: false,
      clearOnComplete: true,
      // the name of the current file is cut to what fits; the counter and bar always show
      linewrap: false,
      fps: 10,
      noTTYOutput: false,
    });
  }

  setTotal(total: number): void {
    this.total = total;
    if (this.running) this.bar.setTotal(total);
    else this.start();
  }

  advance(units = 1, label?: string): void {
    if (label !== undefined) this.current = label;
    this.value += units;
    // work found late (a bundle's entries) grows the total: the bar never claims more than is done
    if (this.value > this.total) this.setTotal(this.value);
    if (this.running) this.bar.update(this.value, { current: this.shortLabel() });
  }

  label(label: string): void {
    this.current = label;
    if (this.running) this.bar.update(this.value, { current: this.shortLabel() });
  }

  clear(): void {
    if (!this.running) return;
    this.bar.stop();
    this.running = false;
    this.stream.write('\r\x1b[K');
  }

  resume(): void {
    if (!this.running) this.start();
  }

  interrupt(print: () => void): void {
    const shown = this.running;
    this.clear();
    print();
    if (shown) this.start();
  }

  stop(): void {
    this.clear();
  }

  private start(): void {
    this.bar.start(this.total, this.value, { current: this.shortLabel() });
    this.running = true;
  }

  /** The end of a long path (the file's own name), not its folders. */
  private shortLabel(): string {
    const room = Math.max((this.stream.columns ?? 100) - 60, 12);
    return this.current.length > room ? `…${this.current.slice(this.current.length - room + 1)}` : this.current;
  }
}
