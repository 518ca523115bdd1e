import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildImages } from "../../harness/docker/images.js";
import { docker, skipWithoutDocker } from "./gate.js";
import { runOnce } from "./run-container.js";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

describe.skipIf(skipWithoutDocker)("buildImages (real engine)", () => {
  it("builds a runtime image whose node is this machine's node", { timeout: 120_000 }, async () => {
    const result = await buildImages({ docker, projectRoot, tag: "test-images", kinds: ["runtime"] });
    expect(result.images.map((i) => [i.kind, i.ref])).toEqual([["runtime", "faultline/runtime:test-images"]]);
    const run = await runOnce(docker, "faultline/runtime:test-images", ["--version"]);
    expect(run).toEqual({ exitCode: 0, output: `${process.version}\n` });
    const labels = (await docker.getImage("faultline/runtime:test-images").inspect()).Config.Labels;
    expect(labels).toEqual({ "io.faultline.managed": "true", "io.faultline.image": "runtime" });
  });

  it(
    "the runtime image carries the project's dist and production dependencies",
    { timeout: 60_000 },
    async () => {
      // zod is a production dependency, vitest a dev one: the first resolves inside /app, the second must not.
      const script =
        "const r=(m)=>{try{require.resolve(m);return 'yes'}catch{return 'no'}};" +
        "console.log(r('zod'), r('vitest'), require('fs').existsSync('/app/dist/harness/docker/healthcheck.js'))";
      const run = await runOnce(docker, "faultline/runtime:test-images", ["-e", script]);
      expect(run).toEqual({ exitCode: 0, output: "yes no true\n" });
    },
  );
});
