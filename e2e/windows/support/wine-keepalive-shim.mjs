// Test-only workaround for Wine, loaded into the Windows node.exe with NODE_OPTIONS=--import
// (WINE_KEEPALIVE_NODE_OPTIONS of support/wine.ts) by every test that runs it against a kube-apiserver. Under Wine 8, TCP keep-alive set on a socket that is
// still connecting fails the connect with `UNKNOWN` (libuv's keep-alive ioctl on a socket Wine has
// not connected yet); undici, client-node's HTTP client, does exactly that for every connection.
// This defers keep-alive until the socket is connected. Windows itself accepts it: not shipped.
import net from 'node:net';

const setKeepAlive = net.Socket.prototype.setKeepAlive;
net.Socket.prototype.setKeepAlive = function (enable, delay) {
  if (this.connecting) {
    this.once('connect', () => setKeepAlive.call(this, enable, delay));
    return this;
  }
  return setKeepAlive.call(this, enable, delay);
};
