/**
 * The one way cabferry compares a cab member's name with another name (a metadata name such as
 * update.mum, a catalog entry's File, an unattend .xml's source): as the file Windows makes of it.
 * Extracted through Win32 (expand, wusa, CBS), `\` and `/` separate folders, each name loses its
 * trailing dots and spaces, and case does not matter, so "update.mum.", "update.mum " and
 * "UPDATE.MUM" are all written as update.mum, over one another (review 9, R9-4). Two members with
 * the same key are one file on the target host; a member is the metadata it will be read as.
 *
 * Segments made only of dots (".", "..") are left as they are: they are path syntax, refused
 * where a member is written (./extract safeRelativePath), not names.
 */
export function memberKey(name: string): string {
  return name
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => segment.replace(/^(.*[^. ])[. ]+$/s, '$1'))
    .join('/')
    .toLowerCase();
}

/** Whether two member names are the same file once Windows has written them. */
export function sameMemberName(a: string, b: string): boolean {
  return memberKey(a) === memberKey(b);
}
