import { describe, expect, it } from "vitest";
import { chatRequestSchema, usualChatRequest } from "../../../reference-service/api/schemas.js";

const base = { model: "sim-zero", messages: [{ role: "user", content: "hi" }], max_tokens: 1 };

/** Values tried in each field: valid and invalid ones, of every JSON type. */
const VALUES: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  1,
  -1,
  1.5,
  1_000_000,
  1_000_001,
  "",
  "x",
  "5m",
  [],
  [1],
  ["x"],
  {},
  { include_usage: true },
  { include_usage: "yes" },
];

const MESSAGES: readonly unknown[] = [
  [],
  [{ role: "user", content: "hi" }],
  [{ role: "system" }, { role: "assistant", content: null }],
  [{ role: "robot", content: "x" }],
  [{ role: "user", content: 3 }],
  [{ role: "user", content: [{ type: "text", text: "hi" }] }],
  [{ role: "user", content: [{ text: "no type" }] }],
  [null],
  [["user", "hi"]],
  "hi",
  { role: "user" },
];

function variants(): unknown[] {
  const out: unknown[] = [base, null, [], "x", 1, { ...base, extra: { any: "thing" } }];
  const fields = [
    "model",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "n",
    "keep_alive",
  ];
  for (const f of fields)
    for (const v of VALUES) {
      const b: Record<string, unknown> = { ...base };
      if (v === undefined) delete b[f];
      else b[f] = v;
      out.push(b);
    }
  for (const messages of MESSAGES) out.push({ ...base, messages });
  return out;
}

describe("usualChatRequest: the hand check before zod", () => {
  it("never accepts a body chatRequestSchema refuses, and hands back the body itself", () => {
    let accepted = 0;
    for (const body of variants()) {
      const fast = usualChatRequest(body);
      if (fast === undefined) continue;
      accepted++;
      expect([body, chatRequestSchema.safeParse(body).success]).toEqual([body, true]);
      expect(fast).toBe(body);
    }
    expect(accepted).toBeGreaterThan(10);
  });

  it("takes the bodies the benchmark and the usual clients send", () => {
    for (const body of [
      base,
      { ...base, stream: true },
      { ...base, max_tokens: null, max_completion_tokens: 64, n: 1, temperature: 0.2 },
      {
        model: "m",
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "hi" },
        ],
      },
    ])
      expect(usualChatRequest(body)).toBe(body);
  });
});
