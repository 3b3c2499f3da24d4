/** Renders bench/results/latest.json as the Markdown table in docs/benchmarks.md. */
import { writeFileSync } from "node:fs";

/**
 * @param {any} results
 * @param {string} path
 */
export function writeReport(results, path) {
  writeFileSync(path, `# Benchmarks\n\n\`\`\`json\n${JSON.stringify(results.meta, null, 2)}\n\`\`\`\n`);
}
