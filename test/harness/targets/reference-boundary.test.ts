import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SERVICE = join(ROOT, "reference-service");
/** The reference target adapter: the one place in harness/ and reports/ that may import the service. */
const ADAPTER = join(ROOT, "harness", "targets", "reference");
const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (SOURCE.test(e.name)) out.push(path);
  }
  return out;
}

const inside = (dir: string, path: string): boolean => path === dir || path.startsWith(dir + sep);

/** Import and re-export specifiers of a module (static, type-only and dynamic), comments and strings aside. */
const specifiers = (text: string): string[] =>
  ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);

/** The specifiers in `file` (its text) that reach into reference-service/. */
function serviceImports(file: string, text: string): string[] {
  return specifiers(text).filter((s) => s.startsWith(".") && inside(SERVICE, resolve(dirname(file), s)));
}

describe("only the reference target adapter imports reference-service/", () => {
  it("finds an import of the service in every form a module can write one", () => {
    const file = join(ROOT, "harness", "sla", "x.ts");
    const text = [
      'import { METRICS } from "../../reference-service/contract.js";',
      'import type { Config } from "../../reference-service/config.js";',
      'export * from "../../reference-service/ipc/frame.js";',
      'const m = await import("../../reference-service/main.js");',
      '// import { x } from "../../reference-service/commented.js";',
      'import { ok } from "../targets/protocol.js";',
    ].join("\n");
    expect(serviceImports(file, text)).toEqual([
      "../../reference-service/contract.js",
      "../../reference-service/config.js",
      "../../reference-service/ipc/frame.js",
      "../../reference-service/main.js",
    ]);
  });

  it("holds for every file under harness/ and reports/", async () => {
    const files = [
      ...(await sourceFiles(join(ROOT, "harness"))),
      ...(await sourceFiles(join(ROOT, "reports"))),
    ];
    expect(files.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const file of files) {
      if (inside(ADAPTER, file)) continue;
      for (const s of serviceImports(file, await readFile(file, "utf8")))
        offenders.push(`${relative(ROOT, file)} imports ${s}`);
    }
    expect(offenders).toEqual([]);
  });
});
