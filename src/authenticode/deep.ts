import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');
import { openCab } from '../cab/cabinet';
import type { CabMember } from '../cab/types';
import { memberKey } from '../cab/member-name';
import { CabferryError } from '../errors';
import { verifyCab, type FileVerdict, type Verdict, type VerifyCabOptions } from './cab';
import { writeFully } from '../io/write-fully';
import { PayloadBudget } from '../io/payload-budget';

/**
 * `--deep`: an .msu is a cabinet of cabinets (the payload .cab and WSUSSCAN.cab), each signed
 * on its own. Each inner cabinet is streamed out to a private temporary file and verified like
 * any other, then reported as a member of the outer file.
 *
 * This is also the verdict inspect and import go by for an .msu (src/package/inspect.ts): they
 * unpack the same members in their own pass and judge them with innerCabinetMembers,
 * verifyInnerCabinet and deepVerdict below, so an .msu the importer records as valid is one
 * `verify --deep` calls valid.
 *
 * Only MSUs are opened up, one level deep: WSUSSCAN.cab itself holds an unsigned package.cab by
 * design (its bytes are covered by WSUSSCAN.cab's own signature), so descending into every
 * cabinet would call genuine Microsoft files "unsigned".
 *
 * What an .msu makes us decode and write here is charged to its payload budget
 * (../io/payload-budget): each inner cabinet's declared size is reserved before its temp file
 * is created, so decoys cost a refusal, not their size in TMPDIR.
 */
export function verifyCabDeep(file: string, options: VerifyCabOptions): FileVerdict {
  return deepVerdict(verifyCab(file, options), verifyInnerCabinets(file, options));
}

/** The members of an .msu that are cabinets signed on their own: recognised by name as wusa/DISM do (`*.cab`, any case, as Windows writes the name). */
export function innerCabinetMembers<M extends Pick<CabMember, 'name'>>(members: readonly M[]): M[] {
  return members.filter((m) => memberKey(m.name).endsWith('.cab'));
}

/** An .msu by name, or by content: the WSUSSCAN.cab member every MSU carries. */
function isMsu(file: string, memberNames: string[]): boolean {
  return /\.msu$/i.test(file) || memberNames.some((n) => memberKey(n) === 'wsusscan.cab');
}

export function verifyInnerCabinets(file: string, options: VerifyCabOptions): FileVerdict[] {
  const cab = openCab(file);
  if (!isMsu(file, cab.members.map((m) => m.name))) {
    cab.close();
    return [];
  }
  const budget = new PayloadBudget(file, cab.file.size);
  cab.budget = budget;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-verify-'));
  try {
    return innerCabinetMembers(cab.members).map((member) => {
      const tmp = path.join(dir, `member-${member.index}.cab`);
      const problem = cab.memberProblem(member);
      if (problem !== null) throw problem;
      budget.reserveTemp(member.size, `unpacking inner cabinet ${member.name}`);
      const fd = fs.openSync(tmp, 'w', 0o600);
      try {
        try {
          for (const chunk of cab.readMemberChunks(member)) writeFully(fd, chunk);
        } finally {
          fs.closeSync(fd);
        }
        return verifyInnerCabinet(tmp, file, member.name, options);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    });
  } finally {
    cab.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One inner cabinet, unpacked to `copy`, verified and reported as member `member` of `file`. */
export function verifyInnerCabinet(copy: string, file: string, member: string, options: VerifyCabOptions): FileVerdict {
  try {
    return { ...verifyCab(copy, options), file, member };
  } catch (e) {
    // errors about the temporary copy are about this member of the user's file
    if (e instanceof CabferryError) {
      throw new CabferryError(e.kind, e.code, e.message, { file, member, offset: e.offset, cause: e });
    }
    throw e;
  }
}

const severity: Record<Verdict, number> = { valid: 0, unsigned: 1, untrusted: 2, invalid: 3 };

/** The file as a whole is only as good as its worst part: its own verdict with its inner cabinets' as `members`. */
export function deepVerdict(outer: FileVerdict, members: FileVerdict[]): FileVerdict {
  if (members.length === 0) return outer;
  const worst = members.reduce((w, m) => (severity[m.verdict] > severity[w.verdict] ? m : w), outer);
  if (worst === outer) {
    const allValid = members.every((m) => m.verdict === 'valid');
    return { ...outer, verdict: outer.verdict, code: outer.code, reason: allValid ? `${outer.reason}; ${members.length} inner cabinet(s) valid` : outer.reason, members };
  }
  return { ...outer, verdict: worst.verdict, code: worst.code, reason: `inner cabinet ${JSON.stringify(worst.member)}: ${worst.reason}`, members };
}
