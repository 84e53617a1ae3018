import Logging
import NIOCore
import SlipwayCore
import Synchronization

/// Handing the listeners to a new router process: this one stops accepting (keeping the sockets open),
/// passes them on, then lets its connections finish.
extension ProxyServer {
    /// Stops accepting without closing the listening sockets: connections wait in the kernel's queue
    /// (none is refused) for whichever process accepts next. The channels stay open, so a connection
    /// accepted a moment before finishes its set-up (NIO closes one whose listener closed meanwhile).
    /// Returns each listener's address and socket.
    func pauseAccepting() async -> [(address: ListenAddress, descriptor: Int32)] {
        for (_, b) in bound { await accept(b, false) }
        return bound.values.map { ($0.address, $0.descriptor) }
    }

    /// Accepts again (the new process did not start).
    func resumeAccepting() async {
        for (_, b) in bound { await accept(b, true) }
    }

    /// Answers the requests in progress with `Connection: close`, closes connections once they are idle
    /// and returns when none is left (or `timeout` has passed); the number still open then.
    @discardableResult
    func drain(timeout: Duration) async -> Int {
        state.draining.store(true, ordering: .releasing)
        pools.forEachLoop { $0.drainClients() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.openConnections.load(ordering: .acquiring) == 0 { return 0 }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = state.openConnections.load(ordering: .acquiring)
        if left > 0 { logger.warning("closing connections still open after the drain", metadata: ["router.connections": "\(left)"]) }
        pools.forEachLoop { $0.closeClients() }
        return left
    }
}
