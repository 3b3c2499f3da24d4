import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CloseCode, HTTP_ERRORS, WS_ERRORS } from "../../src/protocol/errors.js";
import { PROTOCOL_VERSION } from "../../src/protocol/messages.js";

const DOC = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");

/** The rows of every markdown table whose header starts with these column names. */
function tables(header: string[]): string[][] {
  const rows: string[][] = [];
  const lines = DOC.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const cells = cellsOf(lines[i] as string);
    if (cells === null || header.some((h, k) => cells[k] !== h)) continue;
    for (let j = i + 2; j < lines.length; j++) {
      const row = cellsOf(lines[j] as string);
      if (row === null) break;
      rows.push(row);
    }
  }
  return rows;
}

function cellsOf(line: string): string[] | null {
  const t = line.trim();
  if (!t.startsWith("|")) return null;
  return t
    .slice(1, -1)
    .split("|")
    .map((c) => c.trim());
}

const code = (cell: string) => cell.replace(/`/g, "");

/** docs/protocol.md lists exactly the codes the server can send, with the status the catalog gives them. */
describe("docs/protocol.md against the error catalog", () => {
  it("states the protocol version the code speaks", () => {
    expect(/^Version (\d+)\./m.exec(DOC)?.[1]).toBe(String(PROTOCOL_VERSION));
    expect(DOC).toContain(`\`v\` (protocol version, ${PROTOCOL_VERSION})`);
  });

  it("lists every HTTP error code, and only those, each with its status", () => {
    const documented = new Map<string, Set<number>>();
    for (const [status, error] of tables(["status", "error"])) {
      const name = code(error as string);
      if (!documented.has(name)) documented.set(name, new Set());
      documented.get(name)?.add(Number(status));
    }
    expect([...documented.keys()].sort()).toEqual(Object.keys(HTTP_ERRORS).sort());
    for (const [name, statuses] of documented) {
      expect([...statuses], name).toEqual([HTTP_ERRORS[name as keyof typeof HTTP_ERRORS].status]);
    }
  });

  it("lists every WebSocket error code, and only those", () => {
    const documented = tables(["code", "cause"]).map(([c]) => code(c as string));
    expect(documented.sort()).toEqual([...WS_ERRORS].sort());
  });

  it("lists every close code the server uses, and only those", () => {
    const documented = new Set(tables(["code", "meaning"]).map(([c]) => Number(c)));
    expect([...documented].sort()).toEqual([...new Set(Object.values(CloseCode))].sort());
  });
});
