import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { FaultError } from "../../../common/errors.js";
import { gpuCotenantsDir } from "../../targets/reference/layout.js";
import { writeFileAtomic } from "../atomic-file.js";
import type { FaultContext, Injector } from "../injector.js";
import { occurrenceIdOf, plantedName } from "../occurrence.js";

const params = z
  .strictObject({
    /** Share of the device's capacity to reserve, e.g. 0.9. */
    fraction: z.number().gt(0).lte(1).optional(),
    /** Absolute reservation in bytes. */
    bytes: z.number().int().positive().optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.fraction === undefined) === (p.bytes === undefined)) {
      ctx.addIssue({ code: "custom", path: ["fraction"], message: "give exactly one of fraction or bytes" });
    }
  });
type Params = z.infer<typeof params>;
type State = { file: string };

const reservationFile = (stateDir: string, occurrenceId: string): string =>
  join(gpuCotenantsDir(stateDir), `${plantedName(occurrenceId)}.json`);

async function sizeOf(p: Params, ctx: FaultContext): Promise<number> {
  if (p.bytes !== undefined) return p.bytes;
  const total = ctx.target.gpuTotalBytes ? await ctx.target.gpuTotalBytes() : null;
  if (total === null) {
    throw new FaultError(`target "${ctx.targetName}" reports no GPU capacity`, "size the fault with bytes");
  }
  return Math.round(total * (p.fraction ?? 0));
}

/**
 * A co-tenant VRAM reservation: another tenant takes part of the GPU, as happens on shared
 * devices, and the model's next allocation fails. The simulated device reads these files.
 */
export const gpuOom: Injector<Params, State> = {
  kind: "gpu-oom",
  summary: "Reserve GPU memory as a co-tenant (a fraction of capacity or bytes) so allocations fail",
  params,
  targets: ["gpu"],
  isInstant: () => false,
  describe: (p, target) =>
    `reserve ${p.bytes !== undefined ? `${p.bytes} bytes` : `${(p.fraction ?? 0) * 100}%`} of ${target} VRAM`,
  async inject(p, ctx) {
    if (!ctx.target.stateDir) throw new FaultError(`target "${ctx.targetName}" has no state directory`);
    const bytes = await sizeOf(p, ctx);
    const file = reservationFile(ctx.target.stateDir, occurrenceIdOf(ctx));
    await mkdir(gpuCotenantsDir(ctx.target.stateDir), { recursive: true });
    const body = { bytes, owner: "faultline gpu-oom", createdAt: new Date(ctx.clock.now()).toISOString() };
    await writeFileAtomic(file, JSON.stringify(body));
    return { file };
  },
  revert: (s) => rm(s.file, { force: true }),
  async revertPending(_p, pending) {
    if (pending.stateDir) await rm(reservationFile(pending.stateDir, pending.occurrenceId), { force: true });
  },
};
