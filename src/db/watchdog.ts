/**
 * Every database call is bounded. PostgreSQL bounds a statement itself (`statement_timeout`, set
 * per pool in client.ts), but a connection that goes silent without closing — lost NAT or firewall
 * state, a hung pooler, a paused VM — answers nothing, not even that error: postgres.js would wait
 * for it forever and the pool would keep handing it out. So each connection's socket is watched:
 * once the client has written a request, the server must answer it within `replyMs` (the statement
 * bound plus the time its error takes to arrive), or the socket is destroyed. An answer is over at
 * its ReadyForQuery: a connection that goes silent halfway through one (a large row, a result and
 * its ReadyForQuery in two packets) still owes the rest, and every chunk that arrives meanwhile
 * only restarts the clock.
 * postgres.js then fails the calls on it with CONNECTION_CLOSED, which the product reads as "database unavailable"
 * (retried, or 503/504 with the job id), drops the connection and opens a new one when needed, so
 * the instance recovers by itself as soon as new connections work.
 */
import net from "node:net";

const CHECK_EVERY_MS = 100;

interface Watched {
  socket: net.Socket;
  replyMs: number;
  /**
   * performance.now() since when the server owes something and has sent nothing: the first request
   * written since it was last heard from, or the last chunk of an answer still unfinished; null
   * when nothing is owed.
   */
  owedSince: number | null;
  /** Requests written whose ReadyForQuery has not arrived yet (the startup message counts as one). */
  awaiting: number;
  /** Anything written yet: the first write is the startup message, which has no type byte. */
  started: boolean;
  /** The server has answered on this connection at least once (a working connection went silent). */
  answered: boolean;
  onStall: (established: boolean) => void;
  /** Reads the server's message frames as they arrive. */
  frames: FrameReader;
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
const QUERY = 0x51;

/**
 * In a buffer of whole frontend messages (type byte, then a 4-byte length): the Sync messages, and
 * the requests the server ends with a ReadyForQuery of its own — each Sync and each simple Query.
 */
function requestsIn(b: Uint8Array): { syncs: number; requests: number } {
  let syncs = 0;
  let requests = 0;
  for (let i = 0; i + 5 <= b.length; ) {
    const len = ((b[i + 1]! << 24) | (b[i + 2]! << 16) | (b[i + 3]! << 8) | b[i + 4]!) >>> 0;
    if (b[i] === SYNC && len === 4) {
      syncs++;
      requests++;
    } else if (b[i] === QUERY) requests++;
    i += 1 + len;
  }
  return { syncs, requests };
}
const READY_FOR_QUERY = 0x5a;
const IDLE = 0x49;

/** The server's messages read so far on one connection. */
interface FrameReader {
  /** Reads a chunk; returns its ReadyForQuery messages, all of them and those that say "idle". */
  feed(chunk: Uint8Array): { ready: number; idle: number };
  /** A message has begun and not ended yet (more of it is on its way). */
  midMessage(): boolean;
}

/**
 * A reader of the server's messages (a type byte, a 4-byte length, the body), split across chunks
 * as TCP delivers them, which counts the ReadyForQuery messages — each ends an answer, and the idle
 * ones a transaction. Bodies are skipped by their length, so a chunk costs one step per message,
 * not per byte.
 */
function frameReader(): FrameReader {
  const head = new Uint8Array(6);
  let have = 0;
  let skip = 0;
  return {
    feed(b) {
      let ready = 0;
      let idle = 0;
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
          ready++;
          if (head[5] === IDLE) idle++;
        } else {
          skip = len - 4;
        }
        have = 0;
      }
      return { ready, idle };
    },
    midMessage: () => have > 0 || skip > 0,
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
      drop(w);
      // Whatever silenced this one (a lost NAT entry, a hung pooler, a paused VM) may have silenced
      // every idle connection too: drop them all now, before a booth's call draws one and waits out
      // the bound again. When the silence began is not known — an idle connection that heard from
      // the server after this call was sent may have gone silent just after — and a fresh
      // connection costs a few ms on a LAN, a silent one drawn by a booth 3 s. The LISTEN
      // connection goes too: it never asks, so nothing else would ever find it silent, and left
      // so it would keep the process deaf to other processes (their jobs' waiters here would fall
      // back to the slow safety-net read, their queued jobs wake no idle worker here, and a setting
      // changed elsewhere, such as the CLI's password rotation, would be seen only as the settings
      // cache ages out, a minute later). It reconnects at once and re-LISTENs, and each reconnect
      // counts as a possibly missed announcement (queue/listen.ts, settings/service.ts).
      for (const other of watched) if (other.owedSince === null) drop(other);
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
    awaiting: 0,
    started: false,
    answered: false,
    onStall,
    frames: frameReader(),
  };
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    w.owedSince ??= performance.now();
    if (!w.started) {
      w.started = true;
      w.awaiting = 1; // the startup message: answered, after the authentication, by a ReadyForQuery
    } else if (args[0] instanceof Uint8Array) {
      // Past the startup message (which has no type byte), postgres.js writes whole messages.
      const sent = requestsIn(args[0]);
      w.awaiting += sent.requests;
      if (w.answered) statements += sent.syncs;
    }
    return write(...args);
  };
  socket.on("data", (chunk: Uint8Array) => {
    const read = w.frames.feed(chunk);
    transactions += read.idle;
    w.awaiting = Math.max(0, w.awaiting - read.ready);
    // Heard from: an answer still unfinished owes the rest within the bound from now on.
    w.owedSince = w.awaiting > 0 || w.frames.midMessage() ? performance.now() : null;
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
