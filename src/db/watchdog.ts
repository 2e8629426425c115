/**
 * Every database call is bounded. PostgreSQL bounds a statement itself (`statement_timeout`, set
 * per pool in client.ts), but a connection that goes silent without closing — lost NAT or firewall
 * state, a hung pooler, a paused VM — answers nothing, not even that error: postgres.js would wait
 * for it forever and the pool would keep handing it out. So each connection's socket is watched:
 * once the client has written a request, the server must send something back within `replyMs`
 * (the statement bound plus the time its error takes to arrive), or the socket is destroyed.
 * postgres.js then fails the calls on it with CONNECTION_CLOSED, which the product reads as "database unavailable"
 * (retried, or 503/504 with the job id), drops the connection and opens a new one when needed, so
 * the instance recovers by itself as soon as new connections work.
 */
import net from "node:net";

const CHECK_EVERY_MS = 100;

interface Watched {
  socket: net.Socket;
  replyMs: number;
  /** performance.now() of the first request written since the server last sent anything; null when nothing is owed. */
  owedSince: number | null;
  /** performance.now() when the server was last heard from (or the socket opened). */
  heardAt: number;
  /** The server has answered on this connection at least once (a working connection went silent). */
  answered: boolean;
  onStall: (established: boolean) => void;
  /** Reads the server's message frames as they arrive; returns the transactions they ended. */
  frames: (chunk: Uint8Array) => number;
}

const watched = new Set<Watched>();
/** Statements sent and transactions ended on watched connections since the process started. */
let statements = 0;
let transactions = 0;

/** The database work this process has done (see `databaseWork`). */
export interface DatabaseWork {
  /**
   * Statements sent to PostgreSQL: one per Sync message of the extended protocol, which postgres.js
   * ends every query with (a simple-protocol BEGIN or COMMIT is not one).
   */
  statements: number;
  /**
   * Transactions ended, committed or rolled back: each ReadyForQuery that says "idle", the one that
   * ends a connection's startup included (a backend reads its catalogs in a transaction of its own
   * as it starts) — what PostgreSQL counts as xact_commit + xact_rollback, read as it happens rather
   * than when a backend flushes its counters (up to 10 s later).
   */
  transactions: number;
}

/**
 * What this process has asked of PostgreSQL on its plain connections (TLS ones are not watched).
 * /metrics shows it; the benchmark reads it to count a job's database work.
 */
export function databaseWork(): DatabaseWork {
  return { statements, transactions };
}

const SYNC = 0x53;

/** Sync messages in a buffer of whole frontend messages (type byte, then a 4-byte length). */
function syncsIn(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 5 <= b.length; ) {
    const len = ((b[i + 1]! << 24) | (b[i + 2]! << 16) | (b[i + 3]! << 8) | b[i + 4]!) >>> 0;
    if (b[i] === SYNC && len === 4) n++;
    i += 1 + len;
  }
  return n;
}
const READY_FOR_QUERY = 0x5a;
const IDLE = 0x49;

/**
 * A reader of the server's messages (a type byte, a 4-byte length, the body), split across chunks
 * as TCP delivers them, which counts the ReadyForQuery messages that end a transaction. Bodies are
 * skipped by their length, so a chunk costs one step per message, not per byte.
 */
function frameReader(): (chunk: Uint8Array) => number {
  const head = new Uint8Array(6);
  let have = 0;
  let skip = 0;
  return (b) => {
    let ended = 0;
    for (let i = 0; i < b.length; ) {
      if (skip > 0) {
        const n = Math.min(skip, b.length - i);
        skip -= n;
        i += n;
        continue;
      }
      head[have++] = b[i++]!;
      if (have < 5) continue;
      const len = ((head[1]! << 24) | (head[2]! << 16) | (head[3]! << 8) | head[4]!) >>> 0;
      if (head[0] === READY_FOR_QUERY && len === 5) {
        if (have < 6) continue;
        if (head[5] === IDLE) ended++;
      } else {
        skip = len - 4;
      }
      have = 0;
    }
    return ended;
  };
}

let checker: ReturnType<typeof setInterval> | null = null;
let lastCheckAt = 0;

function check(): void {
  const now = performance.now();
  const late = now - lastCheckAt > 3 * CHECK_EVERY_MS;
  lastCheckAt = now;
  // The event loop was blocked (a long decode, a starved CPU): answers may be sitting unread in
  // the sockets. Judge nobody until they have had a turn to be read.
  if (late) return;
  for (const w of watched) {
    if (w.owedSince !== null && now - w.owedSince > w.replyMs) {
      const since = w.owedSince;
      drop(w);
      // Whatever silenced this one (a lost NAT entry, a hung pooler, a paused VM) silenced the
      // idle connections that have not heard from the server since, too: drop them now, before a
      // booth's call draws one and waits out the bound again. A fresh connection costs a few ms.
      for (const other of watched) if (other.owedSince === null && other.heardAt < since) drop(other);
    }
  }
  if (watched.size === 0 && checker) {
    clearInterval(checker);
    checker = null;
  }
}

function drop(w: Watched): void {
  watched.delete(w);
  w.onStall(w.answered);
  // Destroyed without an error on purpose: postgres.js then fails every call the connection holds
  // with CONNECTION_CLOSED when the close lands. With an error, calls sent between the error and
  // the close would be left waiting for ever.
  w.socket.destroy();
}

/**
 * Starts watching a connected socket: writes open a debt, any data from the server settles it.
 * Returns the socket itself.
 */
export function watchReplies(
  socket: net.Socket,
  replyMs: number,
  onStall: (established: boolean) => void,
): net.Socket {
  const w: Watched = {
    socket,
    replyMs,
    owedSince: null,
    heardAt: performance.now(),
    answered: false,
    onStall,
    frames: frameReader(),
  };
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    w.owedSince ??= performance.now();
    // Past the startup exchange (which has no type bytes), postgres.js writes whole messages.
    if (w.answered && args[0] instanceof Uint8Array) statements += syncsIn(args[0]);
    return write(...args);
  };
  socket.on("data", (chunk: Uint8Array) => {
    transactions += w.frames(chunk);
    w.owedSince = null;
    w.heardAt = performance.now();
    w.answered = true;
  });
  socket.once("close", () => watched.delete(w));
  watched.add(w);
  if (!checker) {
    lastCheckAt = performance.now();
    checker = setInterval(check, CHECK_EVERY_MS);
    checker.unref?.();
  }
  return socket;
}

/**
 * A socket for postgres.js's `socket` option, already connecting. It is returned at once, not once
 * connected: postgres.js writes its startup message straight away (the socket holds it until the
 * connection is up), and a refused or failed connect then closes the socket the ordinary way, which
 * is what returns the connection to the pool. (A factory that throws leaves it stuck "connecting".)
 */
export function openSocket(target: { host: string; port: number } | { path: string }): net.Socket {
  return "path" in target ? net.connect(target.path) : net.connect(target.port, target.host);
}
