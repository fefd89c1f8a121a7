#!/usr/bin/env node
import { runPod } from './pod.js';

await runPod();
