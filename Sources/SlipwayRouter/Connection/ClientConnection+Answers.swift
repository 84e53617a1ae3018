import NIOCore
import NIOHTTP1
import SlipwayCore
import Synchronization

/// Answers the router gives itself: errors (with the request id), the maintenance page, and requests
/// held while a listener is paused.
extension ClientConnection {
    func respondError(_ status: HTTPResponseStatus, _ message: String) {
        let body = "\(status.code) \(status.reasonPhrase): \(message) (request id \(machine.requestId))\n"
        respond(status, body: ByteBuffer(string: body), contentType: "text/plain; charset=utf-8", retryAfter: status == .serviceUnavailable ? 1 : nil)
    }

    /// Answers the request from the router itself.
    func respond(_ status: HTTPResponseStatus, body: ByteBuffer, contentType: String, retryAfter: Int?, location: String? = nil) {
        guard let out = machine.answer(status, body: body, contentType: contentType, retryAfter: retryAfter, draining: draining, location: location) else {
            abortResponse(upstreamFailed: false)
            return
        }
        currentPool?.stats.end(status: Int(status.code), loop: pool.index, startedAt: startedAt)
        stopResponseTimer()
        closeUpstream()
        context.write(wrapOutboundOut(out), promise: nil)
        idleSince = NIODeadline.now().uptimeNanoseconds
        finishExchange()
    }

    /// `308 Permanent Redirect` to the request's HTTPS address (the method and body are kept by the client).
    func respondRedirect(_ location: String) {
        currentPool = nil
        respond(.permanentRedirect, body: ByteBuffer(string: "Moved to \(location)\n"), contentType: "text/plain; charset=utf-8", retryAfter: nil, location: location)
    }

    func respondMaintenance(_ listener: RouteSnapshot.CompiledListener, _ m: MaintenanceMode) {
        currentPool = nil
        respond(.serviceUnavailable, body: listener.maintenancePage ?? ByteBuffer(string: m.html), contentType: "text/html; charset=utf-8",
                retryAfter: m.retryAfterS)
    }

    /// Parks the request (reading no more of it) until the table changes or the hold limit passes.
    func hold(_ listener: RouteSnapshot.CompiledListener, _ m: MaintenanceMode) {
        let deadline = holdDeadline ?? .now() + .milliseconds(m.holdLimitMs)
        holdDeadline = deadline
        guard deadline > .now() else {
            respondMaintenance(listener, m)
            return
        }
        machine.hold()
        currentPool = nil
        block(.held, true)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        state.waitForChange(ObjectIdentifier(self), listener: listener.name, loop: context.eventLoop) { bound.value.tableChanged() }
        holdTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard phase == .held else { return }
            endHold()
            route()
        }
    }

    func endHold() {
        state.stopWaiting(ObjectIdentifier(self))
        holdTimer?.cancel()
        holdTimer = nil
        block(.held, false)
    }

    /// A new table arrived while held: route again (still paused: keep holding until the same deadline).
    func tableChanged() {
        guard phase == .held else { return }
        endHold()
        route()
    }
}
