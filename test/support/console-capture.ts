/** Captures console.log / console.error lines for a CLI test; `restore()` puts the console back. */
export function captureConsole(): { out: string[]; err: string[]; restore: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err, restore: () => (log.mockRestore(), error.mockRestore()) };
}
