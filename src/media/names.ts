import { inputError } from '../errors';

/**
 * Names that end up on the media, checked once for the two places they must survive:
 * a FAT32 file system (no `<>:"/\|?*`, no control characters, no trailing dot or space, at most
 * 255 characters) and an unquoted token in install.cmd (so `&`, `%`, `!`, `^`, parentheses and
 * spaces are out too). Real Microsoft payload names (Windows6.0-KB4493730-x64.msu) and NetBIOS
 * host names pass.
 */
const FAT32_FORBIDDEN = /[<>:"/\\|?*\x00-\x1f]/;
const CMD_SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Reserved DOS device names, which Windows refuses as file names whatever the extension. */
const DEVICE_NAMES = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

export function fat32NameProblem(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.length > 255) return 'longer than 255 characters';
  if (FAT32_FORBIDDEN.test(name)) return 'contains a character FAT32 does not allow (<>:"/\\|?* or a control character)';
  if (/[. ]$/.test(name)) return 'ends with a dot or a space';
  if (DEVICE_NAMES.test(name)) return 'is a reserved device name';
  return null;
}

/** Throw unless `name` is a valid FAT32 name that install.cmd can also use unquoted. */
export function assertMediaName(name: string, what: string): string {
  const problem = fat32NameProblem(name) ?? (CMD_SAFE.test(name) ? null : 'must start with a letter or digit, and hold only letters, digits, ".", "_" and "-"');
  if (problem !== null) {
    throw inputError('MEDIA_BAD_NAME', `${what} ${JSON.stringify(name)} cannot be used on the media: ${problem}`);
  }
  return name;
}

/** FAT32 stores a file size in 32 bits. */
export const FAT32_MAX_FILE_SIZE = 0xffffffff;
