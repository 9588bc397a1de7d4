/**
 * An empty array that already holds objects as far as V8 is concerned. An array written `[]`
 * starts out holding small integers; the first object pushed into it changes its kind, and every
 * compiled function that had only seen it in the first kind is thrown away and compiled again.
 * The planner's lists (steps, payloads installed since the last restart, chosen payloads, the
 * plan's assumptions) are made in one function and filled in another: made with this, they never
 * change kind, and a fresh host's first plans do not pay for those recompilations (a few
 * milliseconds each under load, issue #18's one-host figure).
 */
export function objectList<T extends object | string>(): T[] {
  const list: T[] = [KIND_SEED as T];
  list.length = 0;
  return list;
}

const KIND_SEED: object = {};
