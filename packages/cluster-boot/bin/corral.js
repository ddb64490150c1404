#!/usr/bin/env node
// A file that exists before the build, so that installing the workspace links
// the bin without a warning; the CLI itself is dist/cli/main.js.
import '../dist/cli/main.js'
