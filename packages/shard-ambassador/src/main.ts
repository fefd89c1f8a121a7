#!/usr/bin/env node
import { runComponent } from '@dds/core/runner';
import { component } from './component.js';
import { nutcrackerArgv } from './config/nutcracker-argv.js';

await runComponent(component, nutcrackerArgv(process.argv.slice(2)));
