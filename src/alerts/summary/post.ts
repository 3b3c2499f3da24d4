import { type AttemptResult, postOnce } from "../delivery/attempt.js";
import { escapeMrkdwn } from "../delivery/formats/slack-body.js";
import { DEFAULT_TIMEOUT_MS, type WebhookTarget } from "../delivery/targets.js";
import type { Digest } from "./digest.js";
import { renderDigest } from "./render.js";

export type PostFormat = "json" | "slack";

/** Slack's limit for one section's text, with room for the code fence. */
const SLACK_TEXT = 2_900;

/** The body of `summary --post`: the digest itself (json), or its text in a Slack message. */
export function digestPostBody(digest: Digest, format: PostFormat): string {
  if (format === "json") return JSON.stringify({ type: "livetrail.summary", ...digest });
  let text = renderDigest(digest, "text");
  if (text.length > SLACK_TEXT) text = `${text.slice(0, SLACK_TEXT)}\n…`;
  const title = `livetrail summary: ${digest.lines} lines, ${digest.byLevel.error} errors`;
  return JSON.stringify({
    text: title,
    blocks: [
      {
        type: "section",
        text: { type: "mrkdwn", text: `\`\`\`${escapeMrkdwn(text.replace(/```/g, "'''"))}\`\`\`` },
      },
    ],
  });
}

export function postDigest(url: string, digest: Digest, format: PostFormat): Promise<AttemptResult> {
  const target: WebhookTarget = {
    name: "summary",
    url,
    format,
    secret: null,
    rateLimit: null,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    headers: {},
  };
  return postOnce(target, digestPostBody(digest, format), {}, new AbortController().signal);
}
