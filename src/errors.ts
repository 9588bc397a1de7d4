/**
 * One typed error for the whole tool. Every failure a user can cause (bad arguments, a
 * malformed or hostile file, a negative verdict) is a CabferryError; anything else that
 * reaches the CLI is a bug and exits 4.
 *
 * The class of an error decides the exit code (DESIGN.md "Contracts"); the `code` is a stable
 * machine-readable string (e.g. "CAB_BAD_MAGIC", "LZX_BAD_BLOCK_TYPE") chosen where the error
 * is thrown, so a new check does not have to touch this file.
 */

export const ExitCode = {
  ok: 0,
  /** a negative verdict: signature invalid or untrusted, plan impossible, media altered */
  negative: 1,
  usage: 2,
  /** unreadable or malformed input */
  input: 3,
  /** internal or storage failure */
  internal: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind = 'usage' | 'input' | 'negative' | 'internal';

/**
 * Facts an error carries beside its words, for scripts: the --json error document's `data`. What a
 * caller may decide on (which payloads, why as a kind) is here as data, never only in `message`,
 * which is presentation. Plain JSON values only; each code that carries data documents its fields
 * where it is thrown and in the README, so a new one does not have to touch this file.
 */
export type ErrorData = Readonly<Record<string, unknown>>;

export interface ErrorContext {
  /** the file the error is about, as the user named it */
  file?: string;
  /** byte offset in that file where the problem was found */
  offset?: number;
  /** the cabinet member (or zip entry) being read */
  member?: string;
  cause?: unknown;
  /** facts for scripts (the error document's `data`) */
  data?: ErrorData;
}

export class CabferryError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  file?: string;
  offset?: number;
  member?: string;
  /** facts for scripts beside the words (see ErrorData) */
  readonly data?: ErrorData;

  constructor(kind: ErrorKind, code: string, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'CabferryError';
    this.kind = kind;
    this.code = code;
    this.file = context.file;
    this.offset = context.offset;
    this.member = context.member;
    this.data = context.data;
  }

  get exitCode(): ExitCodeValue {
    return exitCodeForKind(this.kind);
  }

  /** Fill in the file name (and member) when a lower layer threw without knowing them. */
  withContext(context: ErrorContext): this {
    if (this.file === undefined && context.file !== undefined) this.file = context.file;
    if (this.member === undefined && context.member !== undefined) this.member = context.member;
    if (this.offset === undefined && context.offset !== undefined) this.offset = context.offset;
    return this;
  }
}

export function exitCodeForKind(kind: ErrorKind): ExitCodeValue {
  switch (kind) {
    case 'usage': return ExitCode.usage;
    case 'input': return ExitCode.input;
    case 'negative': return ExitCode.negative;
    case 'internal': return ExitCode.internal;
  }
}

/** Malformed, truncated, hostile or unsupported input: exit 3. */
export function inputError(code: string, message: string, context?: ErrorContext): CabferryError {
  return new CabferryError('input', code, message, context);
}

export function usageError(code: string, message: string, context?: ErrorContext): CabferryError {
  return new CabferryError('usage', code, message, context);
}

/** Storage or internal failure: exit 4. */
export function internalError(code: string, message: string, context?: ErrorContext): CabferryError {
  return new CabferryError('internal', code, message, context);
}

/**
 * A file-system error as the few words a one-line message needs ("no space left on the device
 * (ENOSPC)"), for the storage errors (exit 4) of every module that writes.
 */
export function describeIoError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOSPC': return 'no space left on the device (ENOSPC)';
    case 'EDQUOT': return 'disk quota exceeded (EDQUOT)';
    case 'EROFS': return 'read-only file system (EROFS)';
    case 'EACCES':
    case 'EPERM': return `permission denied (${code})`;
    case 'EFBIG': return 'file too large for this file system (EFBIG)';
    case 'EIO': return 'input/output error (EIO)';
    case 'ENOENT': return 'no such file or folder (ENOENT)';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder (ENOTDIR)';
    case 'EISDIR': return 'is a folder, not a file (EISDIR)';
    case 'EEXIST': return 'already exists (EEXIST)';
    case 'ELOOP': return 'too many symbolic links, or a symbolic link where none is followed (ELOOP)';
    case 'ENAMETOOLONG': return 'the name is too long (ENAMETOOLONG)';
    case 'EMFILE':
    case 'ENFILE': return `too many open files (${code})`;
    case 'EBUSY': return 'the file or device is busy (EBUSY)';
    case 'ETXTBSY': return 'the file is in use (ETXTBSY)';
    case 'EAGAIN': return 'the resource is temporarily unavailable (EAGAIN)';
    case 'ENXIO': return 'no such device, or a pipe with no writer (ENXIO)';
    case 'ENODEV': return 'no such device (ENODEV)';
    case 'EINVAL': return 'invalid argument for this file (EINVAL)';
    case 'EXDEV': return 'crosses file systems (EXDEV)';
    case 'ENOTEMPTY': return 'the folder is not empty (ENOTEMPTY)';
  }
  if (typeof code === 'string') return `system error ${code}`;
  return e instanceof Error ? e.message : String(e);
}

export function isCabferryError(e: unknown): e is CabferryError {
  return e instanceof CabferryError;
}

/**
 * An error in a --json document: our code and our wording, where it happened, in `detail` the
 * original text of what failed underneath (the system's errno message, OpenSSL's or the DER
 * parser's words), which the one-line human message leaves out on purpose, and in `data` the
 * facts a script decides on, where the error carries them.
 */
export interface ErrorDocument {
  code: string;
  kind: ErrorKind;
  exitCode: ExitCodeValue;
  message: string;
  file?: string;
  member?: string;
  offset?: number;
  detail?: string;
  data?: ErrorData;
}

export function errorDocument(e: CabferryError): ErrorDocument {
  const detail = originalDetail(e);
  return {
    code: e.code,
    kind: e.kind,
    exitCode: e.exitCode,
    message: e.message,
    ...(e.file !== undefined ? { file: e.file } : {}),
    ...(e.member !== undefined ? { member: e.member } : {}),
    ...(e.offset !== undefined ? { offset: e.offset } : {}),
    ...(detail !== undefined ? { detail } : {}),
    ...(e.data !== undefined ? { data: e.data } : {}),
  };
}

/**
 * The words of the deepest cause below `e`, as whatever failed there said them: Node's errno
 * message (with its code, syscall and path), an OpenSSL error string, the DER parser's message.
 * Undefined when our own message is all there is.
 */
export function originalDetail(e: CabferryError): string | undefined {
  let deepest: unknown = undefined;
  for (let cause: unknown = e.cause, depth = 0; cause !== undefined && cause !== null && depth < 8; depth++) {
    deepest = cause;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (typeof deepest === 'string') return deepest;
  if (!(deepest instanceof Error)) return undefined;
  const code = (deepest as { code?: unknown }).code;
  return typeof code === 'string' && !(deepest instanceof CabferryError) && !deepest.message.includes(code) ? `${code}: ${deepest.message}` : deepest.message;
}

/**
 * The one line a user sees: `FILE: member M: at offset 0x1A2B: message [CODE]`.
 * Never a stack trace.
 */
export function formatErrorLine(e: CabferryError): string {
  const parts: string[] = [];
  if (e.file !== undefined) parts.push(e.file);
  if (e.member !== undefined) parts.push(`member ${JSON.stringify(e.member)}`);
  if (e.offset !== undefined) parts.push(`at offset ${e.offset} (0x${e.offset.toString(16)})`);
  parts.push(e.message);
  return `${parts.join(': ')} [${e.code}]`;
}
