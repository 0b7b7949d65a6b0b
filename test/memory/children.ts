import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A fixture script under test/memory/fixtures, run by a real node process through tsx, with an IPC channel. */
export function forkFixture(name: string, args: readonly string[]): ChildProcess {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = fork(script, [...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  Object.defineProperty(child, 'stderrText', { get: () => stderr });
  return child;
}

export function stderrOf(child: ChildProcess): string {
  return (child as ChildProcess & { stderrText: string }).stderrText;
}

export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => message is T): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`child exited (code ${code}, signal ${signal}) before the message: ${stderrOf(child)}`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export const isReady = (message: unknown): message is 'ready' => message === 'ready';
