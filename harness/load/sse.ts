import { StringDecoder } from "node:string_decoder";
import { jsonLevel, levelRank, DEFAULT_MARKING, type LevelMarking } from "./levels.js";

/**
 * Checks an OpenAI-style server-sent-event stream for completeness while it arrives. A stream
 * is complete only if it carried a finish_reason and ended with `data: [DONE]`, and had no
 * error event in band (`data: {"error": ...}` or `event: error`) and no undecodable event.
 * Common clients treat any 200 stream as success; a stream cut by a crashed worker must count
 * as an error instead. It also notes the service level chunks declare in-band (the target's
 * JSON level field, by default the reference service's `faultline.service_level`): a stream
 * the service continued on a fallback after its headers were sent says so only there.
 */
export class SseChecker {
  constructor(private readonly marking: LevelMarking = DEFAULT_MARKING) {}

  private readonly decoder = new StringDecoder("utf8");
  private buffer = "";
  private eventName = "";
  private data: string[] = [];
  sawDone = false;
  sawFinishReason = false;
  sawError = false;
  sawMalformed = false;
  events = 0;
  /** Worst non-full service level a chunk declared in-band; undefined if none did. */
  serviceLevel: string | undefined;

  feed(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    let nl = this.buffer.indexOf("\n");
    while (nl !== -1) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, "");
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
      nl = this.buffer.indexOf("\n");
    }
  }

  /** Call at end of body: an event not terminated by a blank line is still dispatched. */
  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer.length > 0) this.line(this.buffer);
    this.buffer = "";
    this.dispatch();
  }

  get complete(): boolean {
    return this.sawDone && this.sawFinishReason && this.clean;
  }

  /** No error event and nothing undecodable so far: all a stream the client leaves early can show. */
  get clean(): boolean {
    return !this.sawError && !this.sawMalformed;
  }

  /** Why an incomplete stream is incomplete, for logs and tests. */
  get problem(): string | null {
    if (this.sawError) return "error event in stream";
    if (this.sawMalformed) return "undecodable event in stream";
    if (!this.sawFinishReason) return "stream ended without a finish_reason";
    if (!this.sawDone) return "stream ended without [DONE]";
    return null;
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.data.push(value);
    else if (field === "event") this.eventName = value;
  }

  private dispatch(): void {
    if (this.data.length === 0 && this.eventName === "") return;
    const data = this.data.join("\n");
    const name = this.eventName;
    this.data = [];
    this.eventName = "";
    this.events++;
    if (name === "error") {
      this.sawError = true;
      return;
    }
    if (data === "[DONE]") {
      this.sawDone = true;
      return;
    }
    if (this.sawDone) return; // anything after [DONE] is not part of the answer
    this.inspect(data);
  }

  private inspect(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.sawMalformed = true;
      return;
    }
    if (typeof parsed !== "object" || parsed === null) {
      this.sawMalformed = true;
      return;
    }
    const obj = parsed as { error?: unknown; choices?: unknown };
    if (obj.error !== undefined && obj.error !== null) this.sawError = true;
    this.noteLevel(parsed);
    if (Array.isArray(obj.choices)) {
      for (const c of obj.choices as unknown[]) {
        const reason = (c as { finish_reason?: unknown } | null)?.finish_reason;
        if (typeof reason === "string" && reason.length > 0) this.sawFinishReason = true;
      }
    }
  }

  private noteLevel(chunk: unknown): void {
    if (this.marking.jsonPath === null) return;
    const level = jsonLevel(chunk, this.marking.jsonPath);
    if (level === undefined || !this.marking.belowFull(level)) return;
    if (levelRank(level) > levelRank(this.serviceLevel)) this.serviceLevel = level;
  }
}
