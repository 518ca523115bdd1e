import { join } from "node:path";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { encodeFrame } from "../../../reference-service/ipc/frame.js";

/**
 * The reference service's state directory as the faults that exist only for it see it (GPU
 * co-tenant reservations, spool corruption), and the frame codec those faults plant frames
 * with. The harness reaches these internals through here and nowhere else, so a change of the
 * service's layout breaks this file, not the faults.
 */

/** Where a co-tenant's VRAM reservation files go (each {"bytes", "owner", "createdAt"}). */
export const gpuCotenantsDir = (stateDir: string): string => join(stateDir, STATE_FILES.gpuCotenants);

/** The spool directory frames travel through: requests API -> worker, responses back. */
export const spoolDir = (stateDir: string, dir: "requests" | "responses"): string =>
  join(stateDir, dir === "requests" ? STATE_FILES.spoolRequests : STATE_FILES.spoolResponses);

/** Where the service moves frames that failed validation. */
export const spoolQuarantineDir = (stateDir: string): string => join(stateDir, STATE_FILES.spoolQuarantine);

/** One spool frame as the service writes it: the header (seq, request id) and a JSON payload. */
export const encodeSpoolFrame: (header: { seq: number; requestId: string }, payload: unknown) => Buffer =
  encodeFrame;
