#!/usr/bin/env node
import { runComponent } from '@dds/core/runner';
import { component } from './component.js';

// not awaited: the bundle's lazy chunks import from this entry, which must finish evaluating first
void runComponent(component);
