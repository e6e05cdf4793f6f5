// What a person waiting at a terminal sees while a call runs: a spinner until the first reply, then
// a count of stream items. Drawn on stderr, and only when stderr is a terminal, so that stdout
// stays pure JSON and non-interactive runs (pipes, CI, tests) get no noise at all.

/** The part of a stream a progress line needs (a `tty.WriteStream` in real use). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** ASCII frames for terminals that cannot draw braille (TERM=dumb, Windows consoles of old). */
const ASCII_FRAMES = ["|", "/", "-", "\\"];
const INTERVAL_MS = 80;

/** A one-line progress indicator. Every method is a no-op when it is disabled. */
export class Progress {
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly frames: readonly string[];
  private text = "";
  private frame = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private shown = false;

  /**
   * @param stream - where to draw (stderr)
   * @param enabled - draw at all; callers pass `stream.isTTY && !quiet`
   */
  constructor(stream: ProgressStream, enabled: boolean) {
    this.stream = stream;
    this.enabled = enabled;
    this.frames = process.env.TERM === "dumb" ? ASCII_FRAMES : FRAMES;
  }

  /** Shows `text` with a spinner, redrawn every 80 ms until {@link Progress.stop}. */
  start(text: string): void {
    if (!this.enabled) return;
    this.text = text;
    this.draw();
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % this.frames.length;
        this.draw();
      }, INTERVAL_MS);
      // The spinner must never keep the process alive.
      this.timer.unref();
    }
  }

  /** Changes the text; it shows at the next frame. */
  update(text: string): void {
    this.text = text;
  }

  /** Erases the line so that something else can be printed; the next frame redraws it. */
  clear(): void {
    if (!this.enabled || !this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }

  /** Erases the line and stops the spinner. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    this.stream.write(`\r\x1b[K${this.frames[this.frame]!} ${this.text}`);
    this.shown = true;
  }
}
