// `neurosurgeon studio [MODEL] [--web] [--port P] [--no-open] [--no-executor]`: starts the
// desktop studio, or with --web (or where no Electron binary is installed) the web host
// that serves the same studio to a browser on loopback. See main/studio/launch.ts.
import type { Command } from 'commander';
import { UsageError } from '../errors/user-errors.js';
import { launchStudio } from '../studio/launch.js';

function portNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  return Number(value);
}

export function registerStudioCommands(program: Command): void {
  program
    .command('studio')
    .argument('[model]', 'ONNX file to open (default: the AlexNet sample)')
    .description('start the studio: the desktop window, or with --web the studio in your browser')
    .option('--web', 'serve the studio to a browser on loopback instead of opening the desktop window')
    .option('--port <p>', 'port of the web host (default: a free one)', portNumber, 0)
    .option('--no-open', 'do not open a browser (web host)')
    .option('--no-executor', 'do not start an executor on this machine')
    .option('--debug', 'print stack traces on errors')
    .action(async (model: string | undefined, options: { web?: boolean; port: number; open: boolean; executor: boolean }) => {
      await launchStudio({ web: Boolean(options.web), port: options.port, open: options.open, executor: options.executor, model });
    });
}
