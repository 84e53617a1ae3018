import NIOCore
import NIOHTTP1
import SlipwayCore

/// Maintenance mode on the request path: the 503 page, and requests held while a listener is paused.
extension ProxyHandler {
    /// Parks the request (reading no more of it) until the table changes or the hold limit passes.
    func hold(_ listener: RouteSnapshot.CompiledListener, _ m: MaintenanceMode) {
        let deadline = holdDeadline ?? .now() + .milliseconds(m.holdLimitMs)
        holdDeadline = deadline
        guard deadline > .now() else {
            respondMaintenance(listener, m)
            return
        }
        phase = .held
        currentPool = nil
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        state.waitForChange(ObjectIdentifier(self), listener: listenerName, loop: context.eventLoop) { bound.value.tableChanged() }
        holdTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard phase == .held else { return }
            endHold()
            phase = .idle
            route()
        }
    }

    func endHold() {
        state.stopWaiting(ObjectIdentifier(self))
        holdTimer?.cancel()
        holdTimer = nil
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    /// A new table arrived while held: route again (still paused: keep holding until the same deadline).
    func tableChanged() {
        guard phase == .held else { return }
        endHold()
        phase = .idle
        route()
    }

    func respondMaintenance(_ listener: RouteSnapshot.CompiledListener, _ m: MaintenanceMode) {
        currentPool = nil
        respond(.serviceUnavailable, body: listener.maintenancePage ?? ByteBuffer(string: m.html), contentType: "text/html; charset=utf-8",
                retryAfter: m.retryAfterS)
    }
}
