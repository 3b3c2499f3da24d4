import { appendFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { describe, expect, test } from "vitest";
import type { SearchResult } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { type HttpResponse, request } from "./http-client.js";
import { bearer, READ, READ2, type Started, startSecured } from "./security-harness.js";

/**
 * Search slots are shared fairly: one client (a token, a signed-in token's sessions, a proxy user, or an address)
 * runs at most one search at a time, so a client holding its slot with catastrophic regular expressions cannot
 * make everyone else's searches answer 503; and a search whose client went away stops holding its slot.
 */
const tempDir = useTempDirs("livetrail-search-fair-");
const track = useClosers();

/**
 * A search that runs until its time limit. Regexes run on RE2 (linear time: `(a+)+$` is done in milliseconds),
 * but this one's automaton has ~1,000 states, which overflow RE2's DFA cache: its NFA takes ~35 µs a byte
 * (measured: 2.8 s for 80 KB; 240 KB once finished in 4.7 s), so these 1.2 MB of a's take far longer than the 6 s
 * limit on any machine this suite runs on (the search stops at the limit: the test does not get slower).
 */
const CATASTROPHIC = `search?q=${encodeURIComponent("(a?){500}a{500}!x")}&regex=1`;
const LITERAL = "search?q=needle";

async function startSearchServer(
  security: Parameters<typeof startSecured>[1],
  options: { maxConcurrentSearches: number; searchTimeoutMs: number },
): Promise<Started & { api: string }> {
  const dir = await tempDir();
  const s = track(await startSecured(dir, security, options));
  await appendFile(s.file, `${`${"a".repeat(20_000)}!\n`.repeat(60)}[2025-12-17T17:40:39Z] needle here\n`);
  return { ...s, api: `${s.url}/api/streams/audit` };
}

/** A search left running: its answer (or the error once it is aborted), and a way to drop the connection. */
function startSearch(
  url: string,
  headers: Record<string, string>,
): { answer: Promise<HttpResponse | Error>; settled: () => boolean; abort(): void } {
  let done = false;
  const req = httpRequest(url, { headers, agent: false });
  const answer = new Promise<HttpResponse | Error>((resolve) => {
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (error) => resolve(error));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on("error", (error) => resolve(error));
  }).finally(() => {
    done = true;
  });
  req.end();
  return { answer, settled: () => done, abort: () => req.destroy() };
}

/**
 * Waits until a quick literal search by `headers`' client is refused (503 busy): proof that a search started
 * earlier holds the slot it needs (the earlier request may reach the server after the first polls).
 */
async function untilBusy(api: string, headers: Record<string, string>, what: string): Promise<HttpResponse> {
  return waitFor(
    async () => {
      const r = await request(`${api}/${LITERAL}`, { headers });
      return r.status === 503 ? r : null;
    },
    { timeoutMs: 10_000, intervalMs: 20, message: what },
  );
}

describe("search fairness between clients", () => {
  test("a token holding its slot with catastrophic searches does not stop another token's search", async () => {
    const s = await startSearchServer(
      { readTokens: [READ, READ2], loginPerMinute: 1000 },
      { maxConcurrentSearches: 2, searchTimeoutMs: 6000 },
    );
    // Client A asks for two hopeless searches at once, as an attacker (or a stuck script) would.
    const a1 = startSearch(`${s.api}/${CATASTROPHIC}`, bearer(READ));
    const a2 = startSearch(`${s.api}/${CATASTROPHIC}`, bearer(READ));
    track({
      close: () => {
        a1.abort();
        a2.abort();
      },
    });
    // One of them holds A's slot; the other, and any further one, is refused at once.
    const refused = await Promise.race([a1.answer, a2.answer]);
    expect(refused).not.toBeInstanceOf(Error);
    expect((refused as HttpResponse).status).toBe(503);
    expect((refused as HttpResponse).json()).toMatchObject({ error: "busy" });
    expect(Number((refused as HttpResponse).headers["retry-after"])).toBeGreaterThanOrEqual(1);
    const again = await untilBusy(s.api, bearer(READ), "A's slot to be held");
    expect(Number(again.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    const holding = a1.settled() ? a2 : a1;

    // Client B (another token) still searches, while A's search is grinding.
    const b = await request(`${s.api}/${LITERAL}`, { headers: bearer(READ2) });
    expect(b.status).toBe(200);
    expect(b.json<SearchResult>().matches.map((m) => m.text)).toEqual(["[2025-12-17T17:40:39Z] needle here"]);
    expect(holding.settled()).toBe(false);

    // Signing in with A's token does not make A another client: its sessions share A's slot.
    const login = await request(`${s.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: READ }),
    });
    const cookie = (login.headers["set-cookie"]?.[0] ?? "").split(";")[0] as string;
    expect(cookie).toMatch(/^livetrail-session=/);
    expect((await request(`${s.api}/${LITERAL}`, { headers: { cookie } })).status).toBe(503);

    const answer = await holding.answer;
    expect(answer).not.toBeInstanceOf(Error);
    expect((answer as HttpResponse).json<SearchResult>().timedOut).toBe(true);
    // A's slot is free again once its search ended.
    expect((await request(`${s.api}/${LITERAL}`, { headers: { cookie } })).status).toBe(200);
  }, 60_000);

  test("clients behind a trusted proxy are told apart by their forwarded address", async () => {
    const s = await startSearchServer(
      { trustedProxies: ["127.0.0.1"] },
      { maxConcurrentSearches: 2, searchTimeoutMs: 6000 },
    );
    const a = { "x-forwarded-for": "203.0.113.7" };
    const b = { "x-forwarded-for": "198.51.100.9" };
    const c = { "x-forwarded-for": "192.0.2.44" };
    const a1 = startSearch(`${s.api}/${CATASTROPHIC}`, a);
    track({ close: () => a1.abort() });
    await untilBusy(s.api, a, "A's slot to be held");
    const b1 = startSearch(`${s.api}/${CATASTROPHIC}`, b);
    track({ close: () => b1.abort() });
    await untilBusy(s.api, b, "B's slot to be held");
    // Both slots are taken (by two clients): a third client waits for one, with Retry-After.
    const third = await request(`${s.api}/${LITERAL}`, { headers: c });
    expect(third.status).toBe(503);
    expect(Number(third.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    a1.abort();
    await waitFor(async () => (await request(`${s.api}/${LITERAL}`, { headers: c })).status === 200, {
      timeoutMs: 3000,
      message: "C to get the slot A left",
    });
    expect(b1.settled()).toBe(false);
  }, 60_000);

  test("users named by a trusted proxy's identity header are told apart", async () => {
    const s = await startSearchServer(
      { trustedProxies: ["127.0.0.1"], identityHeader: "x-forwarded-user" },
      { maxConcurrentSearches: 2, searchTimeoutMs: 6000 },
    );
    const alice = { "x-forwarded-user": "alice" };
    const a1 = startSearch(`${s.api}/${CATASTROPHIC}`, alice);
    track({ close: () => a1.abort() });
    const refused = await untilBusy(s.api, alice, "alice's slot to be held");
    expect(refused.json()).toMatchObject({ error: "busy" });
    const bob = await request(`${s.api}/${LITERAL}`, { headers: { "x-forwarded-user": "bob" } });
    expect(bob.status).toBe(200);
    expect(a1.settled()).toBe(false);
  }, 60_000);
});

describe("a search whose client went away", () => {
  test("frees its slot well before its time limit", async () => {
    const limitMs = 10_000;
    const s = await startSearchServer(
      { readTokens: [READ, READ2] },
      { maxConcurrentSearches: 1, searchTimeoutMs: limitMs },
    );
    const started = Date.now();
    const a = startSearch(`${s.api}/${CATASTROPHIC}`, bearer(READ));
    track({ close: () => a.abort() });
    // B is refused while A's search holds the only slot.
    const refused = await untilBusy(s.api, bearer(READ2), "A to hold the only slot");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    a.abort();
    const gone = Date.now();
    const b = await waitFor(
      async () => {
        const r = await request(`${s.api}/${LITERAL}`, { headers: bearer(READ2) });
        return r.status === 200 ? r : null;
      },
      { timeoutMs: limitMs, intervalMs: 20, message: "B to get the slot back" },
    );
    expect(b.json<SearchResult>().matches).toHaveLength(1);
    expect(Date.now() - gone).toBeLessThan(limitMs / 2);
    expect(Date.now() - started).toBeLessThan(limitMs);
    // A itself may search again at once (its abandoned search no longer counts against it).
    expect((await request(`${s.api}/${LITERAL}`, { headers: bearer(READ) })).status).toBe(200);
  }, 60_000);

  test("a search whose client went away is cancelled: its slot is free again at once, however often", async () => {
    // One slot and a 30 s limit: were the scans left running, the second abandoned one could not get the slot.
    const s = await startSearchServer(
      { readTokens: [READ, READ2] },
      { maxConcurrentSearches: 1, searchTimeoutMs: 30_000 },
    );
    for (let round = 0; round < 3; round++) {
      const search = startSearch(`${s.api}/${CATASTROPHIC}`, bearer(READ));
      track({ close: () => search.abort() });
      await untilBusy(s.api, bearer(READ2), `search ${round + 1} to hold the slot`);
      search.abort();
      await waitFor(
        async () => (await request(`${s.api}/${LITERAL}`, { headers: bearer(READ2) })).status === 200,
        { timeoutMs: 10_000, message: `the slot after search ${round + 1} was abandoned` },
      );
    }
  }, 60_000);
});
