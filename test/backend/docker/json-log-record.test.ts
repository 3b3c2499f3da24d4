import { describe, expect, it } from "vitest";
import { decodeRecord, recordTimeMs } from "../../../src/backend/docker/json-log-record.js";
import { record } from "./json-file.js";

const line = (text: string) => text.replace(/\n$/, "");

describe("decodeRecord: one line of a json-file log", () => {
  it("decodes log, stream and time; the text has no trailing newline", () => {
    const r = decodeRecord(
      line(record('hello <world> & "you"\n', "stdout", "2026-12-04T21:48:34.123456789Z")),
    );
    expect(r).toEqual({
      text: 'hello <world> & "you"',
      stderr: false,
      time: "2026-12-04T21:48:34.123456789Z",
      partial: false,
      malformed: false,
    });
  });

  it("marks stderr, strips CRLF, keeps inner newlines and escapes decoded", () => {
    const r = decodeRecord(line(record("a\tb\u001b[31mred\r\n", "stderr", "2026-12-04T21:48:34Z")));
    expect(r.text).toBe("a\tb\u001b[31mred");
    expect(r.stderr).toBe(true);
  });

  it("a record without the trailing newline is a partial one", () => {
    const r = decodeRecord(line(record("x".repeat(16384), "stdout", "2026-12-04T21:48:34Z")));
    expect(r.partial).toBe(true);
    expect(r.text).toHaveLength(16384);
  });

  it("anything else is shown raw: not JSON, JSON without log, a cut record; a bad time is left out", () => {
    for (const raw of ["plain text", '{"log":', '{"stream":"stdout"}', "[1,2]", "{}", "null", ""]) {
      expect(decodeRecord(raw)).toEqual({
        text: raw,
        stderr: false,
        time: undefined,
        partial: false,
        malformed: true,
      });
    }
    const r = decodeRecord('{"log":"x\\n","stream":"stdout","time":"yesterday"}');
    expect(r).toMatchObject({ text: "x", malformed: false, time: undefined });
  });
});

describe("recordTimeMs: a record's time from its bytes (seek)", () => {
  it("reads the time written last, whatever the text holds", () => {
    const raw = line(record('says "time":"1999-01-01T00:00:00Z"\n', "stdout", "2026-12-04T21:48:34.5Z"));
    expect(recordTimeMs(Buffer.from(raw))).toBe(Date.parse("2026-12-04T21:48:34.5Z"));
    expect(recordTimeMs(Buffer.from("no time here"))).toBeUndefined();
  });
});
