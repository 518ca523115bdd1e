import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RunNotPossibleError } from "./errors.js";

/** The nearest folder above `fromUrl` whose package.json is faultline's (works from sources and from dist/). */
export function packageRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "faultline")
      return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new RunNotPossibleError("cannot find faultline's package.json above this module");
    dir = parent;
  }
}
