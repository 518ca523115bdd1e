import { InvalidInputError } from "../../common/errors.js";
import type { TargetSpec } from "../scenario/schema.js";
import { startCommand } from "./command.js";
import { startReference } from "./reference.js";
import type { RunningTarget, TargetContext } from "./target.js";
import { startUrl } from "./url.js";

export type { RunningTarget, TargetContext } from "./target.js";

/** One adapter per target kind, chosen here and nowhere else. */
export function startTarget(spec: TargetSpec, ctx: TargetContext): Promise<RunningTarget> {
  switch (spec.kind) {
    case "reference":
      return startReference(spec, ctx);
    case "command":
      return startCommand(spec, ctx);
    case "url":
      return startUrl(spec);
    case "docker":
      return Promise.reject(
        new InvalidInputError([
          { path: "target.kind", message: 'target kind "docker" is not supported by this version' },
        ]),
      );
    default: {
      const never: never = spec;
      return never;
    }
  }
}
