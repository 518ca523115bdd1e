import { PassThrough, Writable } from "node:stream";

/** An 80x24 "terminal" that swallows what ink writes (counting bytes), for CPU measurements. */
export function nullTty(): { stdout: NodeJS.WriteStream; bytes: () => number } {
  let bytes = 0;
  const w = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      bytes += chunk.length;
      done();
    },
  });
  Object.assign(w, { isTTY: true, columns: 80, rows: 24 });
  return { stdout: w as unknown as NodeJS.WriteStream, bytes: () => bytes };
}

/** A TTY-like stdin nobody types into (ink puts it in raw mode and listens). */
export function silentStdin(): NodeJS.ReadStream {
  const s = new PassThrough();
  Object.assign(s, { isTTY: true, setRawMode: () => s, ref: () => s, unref: () => s });
  return s as unknown as NodeJS.ReadStream;
}
