/**
 * The shape of a non-stream OpenAI chat completion (openai-node's ChatCompletion type: the
 * fields it declares required), for steady-state checks that an answer, at whatever service
 * level, is one an OpenAI client can read. Extra fields pass: clients ignore them.
 */
import { z } from "zod";

const count = z.number().int().nonnegative();

const chatCompletion = z.object({
  id: z.string().min(1),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string().min(1),
  choices: z
    .array(
      z.object({
        index: count,
        message: z.object({ role: z.literal("assistant"), content: z.string().nullable() }),
        finish_reason: z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: count, completion_tokens: count, total_tokens: count }).optional(),
});

/** null when `value` is a chat completion; otherwise the first difference, naming its field. */
export function chatCompletionProblem(value: unknown): string | null {
  const r = chatCompletion.safeParse(value);
  if (r.success) return null;
  const issue = r.error.issues[0];
  if (!issue) return "not a chat completion";
  const path = issue.path.length > 0 ? issue.path.join(".") : "(the body)";
  return `${path}: ${issue.message}`;
}
