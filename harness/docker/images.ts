import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import type Docker from "dockerode";
import { RunNotPossibleError } from "../../common/errors.js";
import { dockerMessage } from "./client.js";
import { LABELS } from "./labels.js";
import { followProgress } from "./progress.js";
import { IMAGE_PATHS, stageHaproxyRootfs, stageRootfs } from "./rootfs.js";
import {
  CONTAINER_PORTS,
  IMAGE_KINDS,
  dockerfileFor,
  haproxyImageChanges,
  imageRef,
  isNodeImage,
  type ImageKind,
  type NodeImageKind,
} from "./image-specs.js";
import { haproxyContainerConfig } from "../targets/haproxy-config.js";

export interface BuildImagesOptions {
  readonly docker: Docker;
  readonly projectRoot: string;
  /** Tag for every image (default "local"). */
  readonly tag?: string;
  /** Which images; the runtime image is always built first when any other is asked for. */
  readonly kinds?: readonly ImageKind[];
  readonly nodeBinary?: string;
  /** The host's haproxy for the haproxy image (default: FAULTLINE_HAPROXY, else haproxy on PATH). */
  readonly haproxyBinary?: string;
  readonly log?: (line: string) => void;
}

export interface BuiltImage {
  readonly kind: ImageKind;
  readonly ref: string;
  readonly id: string;
  readonly sizeBytes: number;
}

export interface BuildImagesResult {
  readonly images: readonly BuiltImage[];
  readonly durationMs: number;
}

/**
 * Builds faultline's images without any registry: the runtime image is a root filesystem
 * made from this machine's node binary, its shared libraries and the project, imported as a
 * tar (`docker import`); the reference-service and proxy images are `FROM` it with only
 * metadata on top (entrypoint, health check, labels), so they share its single layer.
 */
export async function buildImages(opts: BuildImagesOptions): Promise<BuildImagesResult> {
  const started = performance.now();
  const tag = opts.tag ?? "local";
  const log = opts.log ?? (() => {});
  const kinds = opts.kinds ?? IMAGE_KINDS;
  const images: BuiltImage[] = [];
  const nodeKinds = kinds.filter(isNodeImage);
  const previous = await imageIds(
    opts.docker,
    [...(nodeKinds.length > 0 ? ["runtime" as const] : []), ...kinds],
    tag,
  );
  if (nodeKinds.length > 0) {
    const nodeBinary = opts.nodeBinary ?? process.execPath;
    const stage = await mkdtemp(join(tmpdir(), "faultline-rootfs-"));
    try {
      log(`staging root filesystem in ${stage}`);
      await stageRootfs({ projectRoot: opts.projectRoot, nodeBinary, dir: stage });
      const source = await sourceFingerprint(opts.projectRoot, nodeBinary);
      log("importing runtime image");
      images.push(await importRuntime(opts.docker, stage, tag, source));
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
    for (const kind of nodeKinds) {
      if (kind === "runtime") continue;
      log(`building ${imageRef(kind, tag)}`);
      images.push(await buildOnRuntime(opts.docker, kind, tag, log));
    }
  }
  if (kinds.includes("haproxy")) {
    log(`importing ${imageRef("haproxy", tag)}`);
    images.push(await importHaproxy(opts.docker, haproxyBinaryOf(opts), tag));
  }
  await removeReplaced(opts.docker, previous, images);
  return { images: images.filter((i) => kinds.includes(i.kind)), durationMs: performance.now() - started };
}

async function imageIds(docker: Docker, kinds: readonly ImageKind[], tag: string): Promise<string[]> {
  const ids = await Promise.all(
    kinds.map((k) =>
      docker
        .getImage(imageRef(k, tag))
        .inspect()
        .then((i) => i.Id)
        .catch(() => null),
    ),
  );
  return ids.filter((id): id is string => id !== null);
}

/**
 * A rebuild leaves the images it replaced untagged (~200 MB each); remove them, newest
 * (service images) first. An image still used by a container stays: the engine refuses.
 */
async function removeReplaced(
  docker: Docker,
  previous: readonly string[],
  built: readonly BuiltImage[],
): Promise<void> {
  const kept = new Set(built.map((i) => i.id));
  for (const id of [...previous].reverse()) {
    if (!kept.has(id))
      await docker
        .getImage(id)
        .remove({ noprune: false })
        .catch(() => undefined);
  }
}

/** Label on the runtime image: what it was built from, so a stale image can be told apart. */
export const SOURCE_LABEL = "io.faultline.source";

/**
 * A digest of what goes into the images: every dist/ file's path, size and mtime, the
 * lockfile, and the node binary's size and mtime. Cheap (no file contents but the lockfile).
 */
export async function sourceFingerprint(
  projectRoot: string,
  nodeBinary: string = process.execPath,
): Promise<string> {
  const hash = createHash("sha256");
  const dist = join(projectRoot, "dist");
  const entries = await readdir(dist, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const f of files) {
    const st = await stat(f);
    hash.update(`${f.slice(dist.length)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  hash.update(await readFile(join(projectRoot, "package-lock.json")));
  const node = await stat(nodeBinary);
  hash.update(`node\0${node.size}\0${node.mtimeMs}`);
  return hash.digest("hex").slice(0, 16);
}

/**
 * Builds the images unless images with this tag exist and were built from the same sources
 * (tests and the Docker target use it; `faultline images build` always builds).
 */
export async function ensureImages(opts: BuildImagesOptions): Promise<BuildImagesResult | null> {
  const tag = opts.tag ?? "local";
  const kinds = opts.kinds ?? IMAGE_KINDS;
  const labelOf = (k: ImageKind): Promise<string | null> =>
    opts.docker
      .getImage(imageRef(k, tag))
      .inspect()
      .then((i) => i.Config.Labels?.[SOURCE_LABEL] ?? null)
      .catch(() => null);
  const stale: ImageKind[] = [];
  const nodeKinds = kinds.filter(isNodeImage);
  if (nodeKinds.length > 0) {
    const want = await sourceFingerprint(opts.projectRoot, opts.nodeBinary ?? process.execPath);
    const labels = await Promise.all((["runtime", ...nodeKinds] as const).map(labelOf));
    if (!labels.every((l) => l === want)) stale.push(...nodeKinds);
  }
  if (kinds.includes("haproxy")) {
    const want = await haproxyFingerprint(haproxyBinaryOf(opts));
    if ((await labelOf("haproxy")) !== want) stale.push("haproxy");
  }
  if (stale.length === 0) return null;
  return buildImages({ ...opts, kinds: stale });
}

/** The configuration baked into the haproxy image: the 2-replica topology of docker-compose.yml. */
export const BAKED_HAPROXY_CONFIG = haproxyContainerConfig(2, CONTAINER_PORTS.reference);

/**
 * The host's haproxy: opts.haproxyBinary, else FAULTLINE_HAPROXY, else `haproxy` on PATH
 * (process mode finds it the same way). Missing: a RunNotPossibleError saying how to get it.
 */
export function haproxyBinaryOf(opts: Pick<BuildImagesOptions, "haproxyBinary">): string {
  const named = opts.haproxyBinary ?? (process.env["FAULTLINE_HAPROXY"] || "haproxy");
  const candidates = isAbsolute(named)
    ? [named]
    : (process.env["PATH"] ?? "").split(delimiter).flatMap((d) => (d === "" ? [] : [join(d, named)]));
  // /usr/sbin is not on every user's PATH, and Debian puts haproxy there.
  if (!isAbsolute(named)) candidates.push(join("/usr/sbin", named));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new RunNotPossibleError(
    `HAProxy (${named}) was not found on this machine: the faultline/haproxy image is made from the host's binary`,
    "install Debian's haproxy package (sudo bash harness/docker/setup.sh installs it), set FAULTLINE_HAPROXY to its path, or build the other images with --only",
  );
}

/** What the haproxy image is made from: the binary (size, mtime) and the baked configuration. */
export async function haproxyFingerprint(haproxyBinary: string): Promise<string> {
  const st = await stat(haproxyBinary);
  return createHash("sha256")
    .update(`haproxy\0${st.size}\0${st.mtimeMs}\0${BAKED_HAPROXY_CONFIG}`)
    .digest("hex")
    .slice(0, 16);
}

async function importHaproxy(docker: Docker, haproxyBinary: string, tag: string): Promise<BuiltImage> {
  const stage = await mkdtemp(join(tmpdir(), "faultline-haproxy-rootfs-"));
  try {
    await stageHaproxyRootfs({ haproxyBinary, config: BAKED_HAPROXY_CONFIG, dir: stage });
    const source = await haproxyFingerprint(haproxyBinary);
    const labels = `${LABELS.managed}=true ${LABELS.image}=haproxy ${SOURCE_LABEL}=${source}`;
    return await importTar(docker, stage, imageRef("haproxy", tag), haproxyImageChanges(labels), "haproxy");
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function importRuntime(
  docker: Docker,
  stage: string,
  tag: string,
  source: string,
): Promise<BuiltImage> {
  return importTar(
    docker,
    stage,
    imageRef("runtime", tag),
    [
      `LABEL ${LABELS.managed}=true ${LABELS.image}=runtime ${SOURCE_LABEL}=${source}`,
      `ENTRYPOINT ["${IMAGE_PATHS.node}"]`,
      `WORKDIR ${IMAGE_PATHS.app}`,
    ],
    "runtime",
  );
}

/** `docker import` of a staged root filesystem as one layer, with Dockerfile-like `changes`. */
async function importTar(
  docker: Docker,
  stage: string,
  ref: string,
  changes: readonly string[],
  kind: ImageKind,
): Promise<BuiltImage> {
  const [repo, tag] = ref.split(":");
  const tar = spawn("tar", ["-C", stage, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  tar.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const tarExit = new Promise<number>((resolve) => tar.on("close", (code) => resolve(code ?? 1)));
  try {
    const stream = await docker.importImage(tar.stdout, { repo, tag, changes } as unknown as object);
    await followProgress(docker, stream);
  } catch (error) {
    throw new RunNotPossibleError(`docker import of ${ref} failed: ${dockerMessage(error)}`);
  }
  const code = await tarExit;
  if (code !== 0)
    throw new RunNotPossibleError(`tar of the root filesystem failed (exit ${code}): ${stderr.trim()}`);
  return inspectBuilt(docker, kind, ref);
}

async function buildOnRuntime(
  docker: Docker,
  kind: NodeImageKind,
  tag: string,
  log: (line: string) => void,
): Promise<BuiltImage> {
  const ref = imageRef(kind, tag);
  const ctx = await mkdtemp(join(tmpdir(), "faultline-build-"));
  try {
    await writeFile(join(ctx, "Dockerfile"), dockerfileFor(kind, tag));
    const stream = await docker.buildImage(
      { context: ctx, src: ["Dockerfile"] },
      { t: ref, rm: true, forcerm: true, labels: { [LABELS.managed]: "true", [LABELS.image]: kind } },
    );
    await followProgress(docker, stream, (line) => log(`  ${line}`));
  } catch (error) {
    throw new RunNotPossibleError(`building ${ref} failed: ${dockerMessage(error)}`);
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
  return inspectBuilt(docker, kind, ref);
}

async function inspectBuilt(docker: Docker, kind: ImageKind, ref: string): Promise<BuiltImage> {
  const info = await docker.getImage(ref).inspect();
  return { kind, ref, id: info.Id, sizeBytes: info.Size };
}
