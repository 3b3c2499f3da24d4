/**
 * A host label: which machine a stream's lines come from (`serve --host-label`, `ship --host-label`, or the host
 * name). Display text only; one rule everywhere it is given, so a label that works for one works for all.
 */
export const MAX_HOST_LABEL = 200;

/** Why a label cannot be used, or null: 1-200 characters, no control characters, not blank. */
export function hostLabelProblem(label: string): string | null {
  if (label.trim() === "") return "a host label must not be empty";
  if (label.length > MAX_HOST_LABEL) return `a host label is at most ${MAX_HOST_LABEL} characters`;
  if (/\p{Cc}/u.test(label)) return "a host label must not contain control characters";
  return null;
}
