/**
 * s3rver in a process of its own (see startOwnedBucket): `bun s3rver-child.ts <port> <dir> <bucket>`
 * serves the bucket on 127.0.0.1:<port> from <dir> and prints `{"port": …}` once it listens. A
 * test stops, kills or freezes (SIGSTOP) this process to make the bucket refuse or hang.
 */
import S3rver from "s3rver";

const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory: directory!,
  silent: true,
  configureBuckets: [{ name: bucket!, configs: [] }],
});
const listening = (await server.run()) as { port: number };
console.log(JSON.stringify({ port: listening.port }));
