import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, readFile, stat, writeFile, chmod } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { RunNotPossibleError } from "../../common/errors.js";

const execFileP = promisify(execFile);

/** Where things live inside faultline's images. */
export const IMAGE_PATHS = {
  node: "/usr/local/bin/node",
  app: "/app",
  stateDir: "/var/lib/faultline",
  haproxy: "/usr/sbin/haproxy",
  haproxyConfig: "/usr/local/etc/haproxy/haproxy.cfg",
} as const;

/**
 * Absolute paths of the shared libraries (and the dynamic loader) that `ldd` lists for a
 * binary. The vDSO has no file and is skipped; a library ldd cannot find is an error,
 * because the image would not start.
 */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line === "" || /statically linked/.test(line)) continue;
    if (/=>\s*not found/.test(line)) {
      throw new RunNotPossibleError(
        `ldd: a shared library is missing: ${line}`,
        "install it on the host first",
      );
    }
    const arrow = /=>\s*(\/\S+)/.exec(line);
    const bare = /^(\/\S+)/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path !== undefined) paths.push(path);
  }
  return paths;
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

/**
 * The top-level node_modules folders a production install has, read from package-lock.json
 * (lockfileVersion 2 or 3). Nested folders travel with their parent. A package needed only
 * for development (`dev` or `devOptional`) is left out.
 */
export function productionPackageDirs(lock: unknown): string[] {
  const packages =
    typeof lock === "object" && lock !== null && "packages" in lock
      ? (lock as { packages: Record<string, LockPackage> }).packages
      : null;
  if (packages === null) {
    throw new RunNotPossibleError(
      "package-lock.json has no `packages` section",
      "use npm 7 or later (lockfileVersion >= 2)",
    );
  }
  return Object.entries(packages)
    .filter(
      ([key, p]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && p.dev !== true && p.devOptional !== true,
    )
    .map(([key]) => key)
    .sort();
}

export interface StageOptions {
  readonly projectRoot: string;
  readonly nodeBinary: string;
  readonly dir: string;
}

/** Files every image needs in /etc: a root user, name lookup order (hosts file before DNS). */
const ETC_FILES: Readonly<Record<string, string>> = {
  "etc/passwd":
    "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
  "etc/group": "root:x:0:\nnogroup:x:65534:\n",
  "etc/nsswitch.conf": "hosts: files dns\npasswd: files\ngroup: files\n",
};

/**
 * Lays out a root filesystem in `dir`: the host's node binary and its shared libraries, /etc
 * basics, an empty /tmp, and the project (package.json, dist/, production node_modules) under
 * /app.
 */
export async function stageRootfs(opts: StageOptions): Promise<void> {
  const { projectRoot, dir } = opts;
  if (!existsSync(join(projectRoot, "dist"))) {
    throw new RunNotPossibleError(`${join(projectRoot, "dist")} is missing`, "run `npm run build` first");
  }
  await copyInto(dir, IMAGE_PATHS.node, opts.nodeBinary);
  const { stdout } = await execFileP("ldd", [opts.nodeBinary]);
  for (const lib of parseLdd(stdout)) await copyInto(dir, lib, lib);
  for (const [path, text] of Object.entries(ETC_FILES)) await writeInto(dir, path, text);
  for (const d of ["tmp", "root", IMAGE_PATHS.stateDir.slice(1)])
    await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, "tmp"), 0o1777);
  const app = join(dir, IMAGE_PATHS.app.slice(1));
  await mkdir(app, { recursive: true });
  await copyFile(join(projectRoot, "package.json"), join(app, "package.json"));
  await cp(join(projectRoot, "dist"), join(app, "dist"), { recursive: true });
  const lock: unknown = JSON.parse(await readFile(join(projectRoot, "package-lock.json"), "utf8"));
  for (const pkg of productionPackageDirs(lock)) {
    const from = join(projectRoot, pkg);
    // Optional packages for other platforms are in the lockfile but not on disk.
    if (!existsSync(from)) continue;
    await cp(from, join(app, pkg), { recursive: true, verbatimSymlinks: true });
  }
}

export interface HaproxyStageOptions {
  /** The host's haproxy binary (Debian's haproxy package). */
  readonly haproxyBinary: string;
  /** The configuration baked in at IMAGE_PATHS.haproxyConfig (a container may be given another). */
  readonly config: string;
  readonly dir: string;
}

/**
 * Lays out the HAProxy image's root filesystem in `dir` the way the runtime image's is made
 * from node: the host's haproxy binary, the shared libraries `ldd` lists for it, /etc basics,
 * an empty /tmp, and a configuration. No shell and no node: HAProxy alone.
 */
export async function stageHaproxyRootfs(opts: HaproxyStageOptions): Promise<void> {
  const { dir } = opts;
  await copyInto(dir, IMAGE_PATHS.haproxy, opts.haproxyBinary);
  const { stdout } = await execFileP("ldd", [opts.haproxyBinary]);
  for (const lib of parseLdd(stdout)) await copyInto(dir, lib, lib);
  for (const [path, text] of Object.entries(ETC_FILES)) await writeInto(dir, path, text);
  await writeInto(dir, IMAGE_PATHS.haproxyConfig.slice(1), opts.config);
  for (const d of ["tmp", "root", "run"]) await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, "tmp"), 0o1777);
}

/** Copies a host file (following symlinks) to the same or another absolute path in the image. */
async function copyInto(root: string, imagePath: string, hostPath: string): Promise<void> {
  const to = join(root, imagePath);
  await mkdir(dirname(to), { recursive: true });
  await copyFile(hostPath, to);
  await chmod(to, (await stat(hostPath)).mode & 0o7777);
}

async function writeInto(root: string, relPath: string, text: string): Promise<void> {
  const to = join(root, relPath);
  await mkdir(dirname(to), { recursive: true });
  await writeFile(to, text);
}
