#!/usr/bin/env -S node --max-semi-space-size=1
// Node flags: agent/node-flags.ts (why; kept equal to this line by a unit test)
import { main } from '../agent/main.js';

await main(process.argv.slice(2));
