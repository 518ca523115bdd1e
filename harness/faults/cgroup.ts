import { access, mkdir, readFile, readdir, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FaultError } from "../../common/errors.js";

/**
 * The memory or cpu cgroup of a process, for a real kernel memory limit or CPU quota. Works
 * with the cgroup v1 memory and cpu controllers (what this project's machines have: a hybrid
 * hierarchy) and cgroup v2 (memory.max, cpu.max), found through /proc/<pid>/cgroup and /proc/self/mountinfo. The limited group
 * is created *under* the process's current group, so it stays inside any limits and
 * accounting of its parent.
 */
export type CgroupVersion = 1 | 2;
export interface MemoryCgroup {
  readonly version: CgroupVersion;
  /** Absolute directory of the group. */
  readonly dir: string;
}

interface Mount {
  readonly version: CgroupVersion;
  readonly root: string;
  readonly point: string;
}

/** The controllers faults use: memory (host-oom) and cpu (cpu-quota). */
export type Controller = "memory" | "cpu";

async function controllerMount(controller: Controller): Promise<Mount | null> {
  const lines = (await readFile("/proc/self/mountinfo", "utf8")).split("\n");
  let v2: Mount | null = null;
  for (const line of lines) {
    const [pre, post] = line.split(" - ");
    const [fstype, , superOpts] = (post ?? "").split(" ");
    const f = (pre ?? "").split(" ");
    const mount = { root: f[3] ?? "/", point: f[4] ?? "" };
    if (fstype === "cgroup" && (superOpts ?? "").split(",").includes(controller))
      return { version: 1, ...mount };
    if (fstype === "cgroup2") v2 = { version: 2, ...mount };
  }
  if (
    v2 &&
    (await readFile(join(v2.point, "cgroup.controllers"), "utf8").catch(() => ""))
      .split(/\s/)
      .includes(controller)
  ) {
    return v2;
  }
  return null;
}

export function memoryCgroupOf(pid: number): Promise<MemoryCgroup> {
  return cgroupOf(pid, "memory");
}

/** The group of `pid` in the hierarchy that holds `controller` (v1), or its v2 group. */
export async function cgroupOf(pid: number, controller: Controller): Promise<MemoryCgroup> {
  const mount = await controllerMount(controller);
  if (!mount) {
    const kind = controller === "memory" ? "host-oom" : "cpu-quota";
    throw new FaultError(
      `no cgroup ${controller} controller is mounted`,
      `${kind} needs cgroup v1 ${controller} or cgroup v2 with ${controller}`,
    );
  }
  const lines = (await readFile(`/proc/${pid}/cgroup`, "utf8")).split("\n");
  const mine = lines.find((l) => {
    const [id, controllers] = l.split(":");
    return mount.version === 1 ? (controllers ?? "").split(",").includes(controller) : id === "0";
  });
  const path = mine?.split(":").slice(2).join(":");
  if (path === undefined) throw new FaultError(`process ${pid} has no ${controller} cgroup`);
  const rel = mount.root !== "/" && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return { version: mount.version, dir: join(mount.point, rel) };
}

const limitFiles = (v: CgroupVersion): string[] =>
  v === 1 ? ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] : ["memory.max", "memory.swap.max"];

/** Creates `parent/name` with a memory limit (and no swap to escape into). */
export async function createLimitedGroup(
  parent: MemoryCgroup,
  name: string,
  limitBytes: number,
): Promise<MemoryCgroup> {
  const dir = join(parent.dir, name);
  try {
    if (parent.version === 2) await writeFile(join(parent.dir, "cgroup.subtree_control"), "+memory");
    await mkdir(dir, { recursive: true });
    const [limit, swap] = limitFiles(parent.version);
    await writeFile(join(dir, limit ?? ""), String(limitBytes));
    const swapValue = parent.version === 1 ? String(limitBytes) : "0";
    if (
      await access(join(dir, swap ?? "")).then(
        () => true,
        () => false,
      )
    )
      await writeFile(join(dir, swap ?? ""), swapValue);
  } catch (e) {
    throw new FaultError(
      `cannot create a memory cgroup at ${dir}: ${(e as Error).message}`,
      "run as root with a writable /sys/fs/cgroup",
    );
  }
  return { version: parent.version, dir };
}

export async function moveInto(group: MemoryCgroup, pid: number): Promise<void> {
  await writeFile(join(group.dir, "cgroup.procs"), String(pid));
}

export async function pidsIn(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

/** Moves whatever is left back to the parent group and removes the group. Idempotent. */
export async function removeGroup(dir: string): Promise<void> {
  for (const pid of await pidsIn(dir)) {
    await writeFile(join(dirname(dir), "cgroup.procs"), String(pid)).catch(() => undefined);
  }
  try {
    await rmdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/**
 * Creates `parent/name` with a CPU bandwidth limit: `quotaUs` of CPU time per `periodUs`
 * (v1 cpu.cfs_quota_us / cpu.cfs_period_us, v2 cpu.max), across all the group's threads.
 */
export async function createCpuLimitedGroup(
  parent: MemoryCgroup,
  name: string,
  quotaUs: number,
  periodUs: number,
): Promise<MemoryCgroup> {
  const dir = join(parent.dir, name);
  try {
    if (parent.version === 2) await writeFile(join(parent.dir, "cgroup.subtree_control"), "+cpu");
    await mkdir(dir, { recursive: true });
    if (parent.version === 1) {
      await writeFile(join(dir, "cpu.cfs_period_us"), String(periodUs));
      await writeFile(join(dir, "cpu.cfs_quota_us"), String(quotaUs));
    } else {
      await writeFile(join(dir, "cpu.max"), `${quotaUs} ${periodUs}`);
    }
  } catch (e) {
    throw new FaultError(
      `cannot create a cpu cgroup at ${dir}: ${(e as Error).message}`,
      "run as root with a writable /sys/fs/cgroup",
    );
  }
  return { version: parent.version, dir };
}

/** Finds groups named `name` anywhere in the controller's hierarchy (for cleanup after a crash). */
export async function findGroups(
  name: string,
  maxDepth = 8,
  controller: Controller = "memory",
): Promise<string[]> {
  const mount = await controllerMount(controller);
  if (!mount) return [];
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > maxDepth) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name === name) found.push(join(dir, e.name));
      else await walk(join(dir, e.name), depth + 1);
    }
  };
  await walk(mount.point, 0);
  return found;
}
