#!/usr/bin/env node
// The CLI runs from its TypeScript source, as the server does (tsx): the contracts package is
// consumed as source too, so there is no build step between `npm ci` and `npx trainctl`.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
