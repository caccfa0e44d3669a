import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context.js';

export function register(_program: Command, _ctx: CliContext): void {}
