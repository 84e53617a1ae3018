import NIOCore
import NIOHTTP1
import SlipwayCore
import Synchronization

/// Answers the router gives itself: errors (with the request id), the maintenance page, and requests
/// held while a listener is paused.
extension ClientConnection {
    func respondError(_ status: HTTPResponseStatus, _ message: String) {
        let body = "\(status.code) \(status.reasonPhrase): \(message) (request id \(requestId))\n"
        respond(status, body: ByteBuffer(string: body), contentType: "text/plain; charset=utf-8", retryAfter: status == .serviceUnavailable ? 1 : nil)
    }

    /// Answers the request from the router itself.
    func respond(_ status: HTTPResponseStatus, body: ByteBuffer, contentType: String, retryAfter: Int?) {
        if responseStarted {
            abortResponse(upstreamFailed: false)
            return
        }
        currentPool?.stats.end(status: Int(status.code), loop: pool.index, startedAt: startedAt)
        stopResponseTimer()
        closeUpstream()
        // A body not read to its end would be taken for the next request: close then.
        if !requestBody.done || state.draining.load(ordering: .relaxed) { clientKeepAlive = false }
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\ncontent-type: \(contentType)\r\ncontent-length: \(body.readableBytes)\r\n"
        head += "x-request-id: \(requestId)\r\ncache-control: no-store\r\n"
        if let retryAfter { head += "retry-after: \(retryAfter)\r\n" }
        if !clientKeepAlive { head += "connection: close\r\n" }
        head += "\r\n"
        var out = context.channel.allocator.buffer(capacity: head.utf8.count + body.readableBytes)
        out.writeString(head)
        if !isHEAD { out.writeImmutableBuffer(body) }
        responseStarted = true
        context.write(wrapOutboundOut(out), promise: nil)
        idleSince = NIODeadline.now().uptimeNanoseconds
        finishExchange()
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
        phase = .held
        currentPool = nil
        block(.held, true)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        state.waitForChange(ObjectIdentifier(self), listener: listenerName, loop: context.eventLoop) { bound.value.tableChanged() }
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
