import { afterEach } from "vitest";

/**
 * Registers things a test started (followers, servers, watchers) so they are closed after each test even when
 * an assertion fails midway. Returns `track(x)` which returns x.
 */
export function useClosers(): <T extends { close(): unknown }>(thing: T) => T {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    const things = open.splice(0).reverse();
    for (const thing of things) await thing.close();
  });
  return (thing) => {
    open.push(thing);
    return thing;
  };
}
