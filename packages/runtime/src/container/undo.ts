// Undo steps registered while a multi-step operation progresses, each before the step it undoes
// acts, run newest first if the operation fails, so that a failed create leaves no state dir,
// cgroup or process behind.
export class UndoStack {
  private steps: { what: string; run: () => void }[] = [];

  /** Steps must be harmless when what they undo was never made (its step failed half way). */
  push(what: string, run: () => void): void {
    this.steps.push({ what, run });
  }

  /**
   * Runs the steps newest first and stops at the first that fails, returning it as text for a
   * warning: the older steps are kept undone because the oldest is the removal of the record
   * that tells `delete --force` what is left to clean up.
   */
  unwind(): string | undefined {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const step of steps) {
      try {
        step.run();
      } catch (err) {
        return `${step.what}: ${(err as Error).message}`;
      }
    }
    return undefined;
  }
}
