import type Docker from "dockerode";

interface ProgressMessage {
  status?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Waits for a Docker progress stream (import, build) to end. The engine reports a failed
 * build inside the stream (`{"error": ...}`) with HTTP 200, so errors are looked for in the
 * messages, not only in the transport.
 */
export function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void = () => {},
): Promise<ProgressMessage[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: ProgressMessage[]) => {
        if (err) return reject(err);
        const failed = output.find((m) => m.error !== undefined);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
        resolve(output);
      },
      (m: ProgressMessage) => {
        const text = (m.stream ?? m.status ?? "").trim();
        if (text !== "") onLine(text);
      },
    );
  });
}
