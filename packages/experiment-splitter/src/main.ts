#!/usr/bin/env node
import { runComponent } from '@dds/core/runner';
import { component } from './component.js';

await runComponent(component);
