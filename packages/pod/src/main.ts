#!/usr/bin/env node
import { runPod } from './pod.js';

// not awaited: the bundle's lazy chunks import from this entry, which must finish evaluating first
void runPod();
