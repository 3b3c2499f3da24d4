import type { AlertNotification } from "../../alert.js";

/** The dashboard at one line: `<base>/#stream=<stream>&line=<cursor>` (the hash the web client reads). */
export function lineLink(baseUrl: string, stream: string, cursor: string): string {
  return `${baseUrl}/#stream=${encodeURIComponent(stream)}&line=${encodeURIComponent(cursor)}`;
}

/** One link per evidence line, in the same order; none without a dashboard URL. */
export function evidenceLinks(n: AlertNotification, baseUrl: string | null): string[] {
  if (baseUrl === null) return [];
  return n.evidence.map((e) => lineLink(baseUrl, e.stream, e.cursor));
}

/** Where the alert is best seen: the newest evidence line, else the stream, else the dashboard. */
export function alertLink(n: AlertNotification, baseUrl: string | null): string | null {
  if (baseUrl === null) return null;
  const newest = n.evidence.at(-1);
  if (newest !== undefined) return lineLink(baseUrl, newest.stream, newest.cursor);
  const stream = n.labels.stream;
  return stream === undefined ? `${baseUrl}/` : `${baseUrl}/#stream=${encodeURIComponent(stream)}`;
}
