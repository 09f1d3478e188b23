// Undo steps registered while a multi-step operation progresses, run newest first if it fails,
// so that a failed create leaves no state dir, cgroup or process behind.
export class UndoStack {
  private steps: { what: string; run: () => void }[] = [];

  push(what: string, run: () => void): void {
    this.steps.push({ what, run });
  }

  /** Runs every step even if some fail; returns the failures as text, for a warning. */
  unwind(): string[] {
    const failures: string[] = [];
    for (const step of this.steps.reverse()) {
      try {
        step.run();
      } catch (err) {
        failures.push(`${step.what}: ${(err as Error).message}`);
      }
    }
    this.steps = [];
    return failures;
  }
}
