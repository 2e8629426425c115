/**
 * A statement is a function of the client, `(sql, …args)`: one named statement you can read, test
 * and EXPLAIN on its own. A store is such functions bound to their client once — no method that
 * only hands its arguments on.
 */
import type { Sql } from "../db/client";

type Statement = (sql: Sql, ...args: never[]) => unknown;

/** `statements`, each without its first parameter (the client). */
export type Bound<F extends Record<string, Statement>> = {
  [K in keyof F]: F[K] extends (sql: Sql, ...args: infer A) => infer R ? (...args: A) => R : never;
};

export function bindSql<F extends Record<string, Statement>>(sql: Sql, statements: F): Bound<F> {
  const bound: Record<string, unknown> = {};
  for (const [name, run] of Object.entries(statements)) {
    bound[name] = (...args: never[]) => run(sql, ...args);
  }
  return bound as Bound<F>;
}
