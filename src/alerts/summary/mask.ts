/**
 * A message's shape with its variable parts masked, so "job 41 took 3.2s" and "job 42 took 1.9s" group as one
 * message: `job <n> took <duration>`. Order matters: the specific forms (a UUID, a time, an address) go before
 * the digits they contain would be taken for plain numbers.
 */
const MASKS: readonly [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w:])/g, "<time>"],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, "<ip>"],
  // IPv6: four or more groups, or any `::` form; three groups (12:30:45) are a clock time, masked next.
  [
    /(?<![\w:])(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-f]{1,4}:)*:(?::?[0-9a-f]{1,4})+(?![\w:])/gi,
    "<ip>",
  ],
  [/\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, "<time>"],
  [/\b0x[0-9a-f]+\b/gi, "<hex>"],
  // Hashes and object ids: 8+ hex digits with at least one digit and one letter.
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, "<hex>"],
  [/\b(?:\d+(?:\.\d+)?(?:ms|us|ns|s|m|h|d)){2,}\b/g, "<duration>"],
  [/\b\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d)\b/g, "<duration>"],
  [/\b\d+(?:\.\d+)? ?(?:milliseconds?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b/gi, "<duration>"],
  // Ids made of letters and digits (req8f3a21, user42x): the letters differ between ids too.
  [/\b(?=[a-z0-9_-]*\d[a-z0-9_-]*\d)(?=[a-z0-9_-]*[a-z])[a-z0-9][a-z0-9_-]{5,}\b/gi, "<id>"],
  [/\d+(?:[.,]\d+)*/g, "<n>"],
];

/** At most this many characters of a message are masked and kept: the rest is not part of its shape. */
export const MAX_TEMPLATE_CHARS = 300;

export function maskMessage(message: string): string {
  let out = message.length > MAX_TEMPLATE_CHARS ? message.slice(0, MAX_TEMPLATE_CHARS) : message;
  for (const [pattern, mask] of MASKS) out = out.replace(pattern, mask);
  return out;
}
