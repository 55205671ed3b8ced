import { main } from '../../cli/main';
import { captureConsole } from './console-capture';

/** Runs the CLI's `main()` in this process, capturing what it prints. */
export async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureConsole();
  try {
    const code = await main(argv);
    return { code, out: c.out.join('\n'), err: c.err.join('\n') };
  } finally {
    c.restore();
  }
}
