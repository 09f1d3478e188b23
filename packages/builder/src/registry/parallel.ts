/**
 * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and the
 * first failure is thrown only once the items under way have finished: a download still writing
 * its temp file is not left behind by a process that exits on the error.
 */
export async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      try {
        await work(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
