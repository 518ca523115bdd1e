import { execFileSync } from "node:child_process";

/**
 * One tmux server of our own (its own socket) holding one 80x24 pane: a real pseudo-terminal
 * for the dashboard, read back with capture-pane and typed into with send-keys.
 */
export class TmuxPane {
  private readonly socket: string;

  constructor(
    name: string,
    private readonly session = "pane",
  ) {
    this.socket = `faultline-${name}-${process.pid}`;
  }

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }

  /** Starts `command` in the pane; `; sleep` after it keeps the last screen readable once it exits. */
  start(command: string, cwd: string): void {
    this.tmux(
      "new-session",
      "-d",
      "-x",
      "80",
      "-y",
      "24",
      "-s",
      this.session,
      "-c",
      cwd,
      `${command}; sleep 120`,
    );
  }

  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", this.session);
  }

  /** The screen plus up to 200 lines scrolled off its top (what printed after a last frame pushed up). */
  scrollback(): string {
    return this.tmux("capture-pane", "-p", "-S", "-200", "-t", this.session);
  }

  /** tmux key names: "q", "Down", "Enter", "C-c". */
  keys(...keys: string[]): void {
    for (const k of keys) this.tmux("send-keys", "-t", this.session, k);
  }

  /** Polls the screen until `ok` holds (a condition, not a sleep); the error shows the last screen. */
  async waitFor(what: string, ok: (screen: string) => boolean, timeoutMs: number): Promise<string> {
    const until = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < until) {
      last = this.screen();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}; screen was:\n${last}`);
  }

  /** Pids of the pane shell's children (the command it runs). */
  children(): number[] {
    const shell = this.tmux("display-message", "-p", "-t", this.session, "#{pane_pid}").trim();
    const out = execFileSync("ps", ["-o", "pid=", "--ppid", shell], { encoding: "utf8" });
    return out
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // never started, or already gone
    }
  }
}

/** The pane's lines, trailing blanks dropped. */
export const lines = (screen: string): string[] => screen.split("\n").map((l) => l.trimEnd());
