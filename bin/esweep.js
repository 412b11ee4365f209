#!/usr/bin/env node
// The CLI is written in TypeScript; tsx compiles it on the fly so `npx esweep` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../orchestrator/cli/main.ts');
