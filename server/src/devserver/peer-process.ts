// Which process is on the other end of a loopback TCP connection (Linux /proc). The devserver
// uses it to check the pid a client claims in its handshake: a patch goes only to a connection
// whose socket the launched process itself holds.
// Read-only and synchronous (a few small /proc files per connection); never throws.
import * as fs from 'node:fs';

/** Can this machine attribute sockets to processes at all (Linux with /proc mounted)? */
export function canAttributeSockets(): boolean {
  return process.platform === 'linux' && fs.existsSync('/proc/net/tcp');
}

/**
 * The socket inode of the client end of a loopback connection to `serverPort`, whose own (local)
 * port is `clientPort`, from /proc/net/tcp and /proc/net/tcp6. Undefined when there is none.
 */
export function clientSocketInode(serverPort: number, clientPort: number): number | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    const inode = findInode(text, serverPort, clientPort);
    if (inode !== undefined) return inode;
  }
  return undefined;
}

/** Parses one /proc/net/tcp(6) table: the row whose local port is clientPort and remote port serverPort. */
export function findInode(table: string, serverPort: number, clientPort: number): number | undefined {
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = portOf(f[1]);
    const remote = portOf(f[2]);
    if (local !== clientPort || remote !== serverPort) continue;
    const inode = Number(f[9]);
    if (Number.isSafeInteger(inode) && inode > 0) return inode;
  }
  return undefined;
}

function portOf(address: string): number | undefined {
  const colon = address.lastIndexOf(':');
  if (colon < 0) return undefined;
  const port = parseInt(address.slice(colon + 1), 16);
  return Number.isNaN(port) ? undefined : port;
}

/** Does process `pid` hold the socket with this inode among its open file descriptors? */
export function processHoldsSocket(pid: number, inode: number): boolean {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = fs.readdirSync(dir);
  } catch {
    return false; // no such process, or not ours to look at
  }
  const want = `socket:[${inode}]`;
  for (const fd of fds) {
    try {
      if (fs.readlinkSync(`${dir}/${fd}`) === want) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}

/** Is the client end of this loopback connection held by process `pid`? */
export function connectionHeldBy(pid: number, serverPort: number, clientPort: number): boolean {
  const inode = clientSocketInode(serverPort, clientPort);
  return inode !== undefined && processHoldsSocket(pid, inode);
}
