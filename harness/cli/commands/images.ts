import type { Command } from "commander";
import { InvalidInputError } from "../../../common/errors.js";
import type { CommandContext } from "../context.js";
import { EXIT } from "../exit-codes.js";
// image-specs imports only node builtins; dockerode comes in with images-build, on demand.
import { IMAGE_KINDS, type ImageKind } from "../../docker/image-specs.js";

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * `faultline images build [--tag T] [--only KIND]`: builds faultline's images from this
 * machine's node binary and the project (no registry, no base image). The Docker modules are
 * imported only when the command runs, so other commands never load dockerode.
 */
export function registerImagesCommand(program: Command, ctx: CommandContext): void {
  const images = program
    .command("images")
    .description("build the container images Docker mode runs (no registry needed)");
  images
    .command("build")
    .description(
      "build faultline/runtime, faultline/reference and faultline/toxiproxy from this machine's node and the built project (dist/), and faultline/haproxy from this machine's haproxy",
    )
    .option("--tag <tag>", "image tag (scenarios use target.tag, default local)", "local")
    .option(
      "--only <kind>",
      `build one image (and the runtime it is based on, except haproxy): ${IMAGE_KINDS.join(", ")}`,
    )
    .addHelpText(
      "after",
      "\nNeeds a running Docker engine (harness/docker/setup.sh starts one) and `npm run build`;\n" +
        "faultline/haproxy needs haproxy on this machine (setup.sh installs Debian's; FAULTLINE_HAPROXY names another).\n" +
        'Prints {"images":[{kind,ref,id,sizeBytes}],"durationMs":N} on stdout, progress on stderr.\n' +
        "Exit codes: 0 built, 2 bad flag, 3 no engine or the build failed.\n",
    )
    .action(async (opts: { tag: string; only?: string }) => {
      const kinds = parseOnly(opts.only);
      if (!TAG.test(opts.tag))
        throw new InvalidInputError([
          {
            path: "--tag",
            message: `expected an image tag of letters, digits, '_', '.' or '-', found "${opts.tag}"`,
            hint: "e.g. --tag local",
          },
        ]);
      const { imagesBuildCommand } = await import("./images-build.js");
      const code = await imagesBuildCommand({ tag: opts.tag, ...(kinds ? { kinds } : {}) }, ctx.rt);
      ctx.setExit(code === 0 ? EXIT.ok : EXIT.runNotPossible);
    });
}

function parseOnly(only: string | undefined): readonly ImageKind[] | undefined {
  if (only === undefined) return undefined;
  const kind = IMAGE_KINDS.find((k) => k === only);
  if (kind === undefined)
    throw new InvalidInputError([
      {
        path: "--only",
        message: `unknown image "${only}"`,
        hint: `one of: ${IMAGE_KINDS.join(", ")}`,
      },
    ]);
  return [kind];
}
