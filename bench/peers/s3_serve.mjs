// s3_serve.mjs - the S3-compatible server `newsroom bench store` uploads to: s3rver (npm) on
// 127.0.0.1 at a port the kernel picks, with one bucket and one key pair, printing
// "ready PORT" once it listens; stops on SIGTERM.
// usage: node s3_serve.mjs S3RVER_DIR DATA_DIR BUCKET ACCESS_KEY_ID SECRET
import { createRequire } from 'node:module';
import path from 'node:path';

const [peer, dataDir, bucket, keyId, secret] = process.argv.slice(2);
const require = createRequire(path.join(peer, 'package.json'));
const S3rver = require('s3rver');
require('s3rver/lib/models/account').DUMMY_ACCOUNT.createKeyPair(keyId, secret);

const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dataDir,
  configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
process.stdout.write(`ready ${port}\n`);
process.on('SIGTERM', async () => { await server.close(); process.exit(0); });
