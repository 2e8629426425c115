#!/usr/bin/env bun
/**
 * The `photochanger` entry point: argv → a command of src/cli/ (its table, usage texts and
 * dispatch). Exit codes: 0 ok, 1 failure, 2 bad usage; `serve` keeps the process running.
 */
import { main } from "./cli/index";

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code !== 0 || process.argv[2] !== "serve") process.exit(code);
}
