#!/usr/bin/env node
// A committed file rather than dist/cli.js directly: a workspace links bins at install time,
// before the first build has created dist/, and a link to a missing file is never retried.
import '../dist/cli.js';
