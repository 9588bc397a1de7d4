import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCab } from '../cab/cabinet';
import { CabferryError } from '../errors';
import { verifyCab, type FileVerdict, type Verdict, type VerifyCabOptions } from './cab';
import { writeFully } from '../io/write-fully';
import { PayloadBudget } from '../io/payload-budget';

/**
 * `--deep`: an .msu is a cabinet of cabinets (the payload .cab and WSUSSCAN.cab), each signed
 * on its own. Each inner cabinet is streamed out to a private temporary file and verified like
 * any other, then reported as a member of the outer file.
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
  const outer = verifyCab(file, options);
  const members = verifyInnerCabinets(file, options);
  if (members.length === 0) return outer;
  return { ...outer, ...combinedVerdict(outer, members), members };
}

/** Inner cabinets are recognised by name, as wusa/DISM do (`*.cab`, any case). */
function isInnerCabinet(name: string): boolean {
  return /\.cab$/i.test(name);
}

/** An .msu by name, or by content: the WSUSSCAN.cab member every MSU carries. */
function isMsu(file: string, memberNames: string[]): boolean {
  return /\.msu$/i.test(file) || memberNames.some((n) => /^wsusscan\.cab$/i.test(n));
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
    return cab.members.filter((m) => isInnerCabinet(m.name)).map((member) => {
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
        const verdict = verifyCab(tmp, options);
        return { ...verdict, file, member: member.name };
      } catch (e) {
        // errors about the temporary copy are about this member of the user's file
        if (e instanceof CabferryError) {
          throw new CabferryError(e.kind, e.code, e.message, { file, member: member.name, offset: e.offset, cause: e });
        }
        throw e;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    });
  } finally {
    cab.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const severity: Record<Verdict, number> = { valid: 0, unsigned: 1, untrusted: 2, invalid: 3 };

/** The file as a whole is only as good as its worst part. */
function combinedVerdict(outer: FileVerdict, members: FileVerdict[]): Pick<FileVerdict, 'verdict' | 'code' | 'reason'> {
  const worst = members.reduce((w, m) => (severity[m.verdict] > severity[w.verdict] ? m : w), outer);
  if (worst === outer) {
    const allValid = members.every((m) => m.verdict === 'valid');
    return { verdict: outer.verdict, code: outer.code, reason: allValid ? `${outer.reason}; ${members.length} inner cabinet(s) valid` : outer.reason };
  }
  return { verdict: worst.verdict, code: worst.code, reason: `inner cabinet ${JSON.stringify(worst.member)}: ${worst.reason}` };
}
