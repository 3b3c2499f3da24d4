/** Inserts items into arr at index without spreading them as call arguments (safe for large batches). */
export function spliceIn<T>(arr: T[], at: number, items: T[]): void {
  if (items.length < 10_000) {
    arr.splice(at, 0, ...items);
    return;
  }
  const tail = arr.splice(at);
  for (const x of items) arr.push(x);
  for (const x of tail) arr.push(x);
}
