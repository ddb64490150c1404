// What every Socket.IO worker of the realtime suite does, Corral's and the anchor's alike.
export function attach (io) {
  io.on('connection', (socket) => {
    socket.emit('hello', { pid: process.pid })
    // one client asks its worker to broadcast: the adapter carries it to every other worker
    socket.on('publish', (seq, ack) => {
      io.emit('news', seq)
      ack()
    })
    socket.on('stats', (ack) => ack({ pid: process.pid, sockets: io.of('/').sockets.size, rss: process.memoryUsage().rss }))
  })
}
