import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Health probes over one kept-alive connection per instance port: a probe is one request on an open
/// connection, not a TCP handshake, a new channel and a teardown (192 instances probed every second cost the
/// daemon 8% of a core that way). A connection is opened again after a failure, when the instance closes it,
/// and at least every `maxAge`, so accepting new connections stays checked too.
public final class KeepAliveProbeClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var reason: String
        public var body: String
    }

    struct Entry: Sendable {
        var channel: any Channel
        var opened: NIODeadline
    }

    let group: any EventLoopGroup
    let maxAge: TimeAmount
    let idle = Mutex<[Int: Entry]>([:])

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, maxAge: TimeAmount = .seconds(30)) {
        self.group = group
        self.maxAge = maxAge
    }

    /// GET `path` on 127.0.0.1:`port`.
    public func get(port: Int, path: String, timeout: Duration) async throws -> Response {
        let nanos = max(Int64(1_000_000), timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let reused = idle.withLock { $0.removeValue(forKey: port) }
        let entry: Entry
        if let reused, reused.channel.isActive, NIODeadline.now() - reused.opened < maxAge {
            entry = reused
        } else {
            reused?.channel.close(promise: nil)
            entry = Entry(channel: try await connect(port: port, timeoutNanos: nanos), opened: .now())
        }
        let channel = entry.channel
        let response: (Response, keepAlive: Bool)
        do {
            response = try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<(Response, keepAlive: Bool)> in
                let handler: ProbeResponseHandler
                do { handler = try channel.pipeline.syncOperations.handler(type: ProbeResponseHandler.self) } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                let promise = channel.eventLoop.makePromise(of: (Response, keepAlive: Bool).self)
                handler.pending = promise
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
                head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
                head.headers.add(name: "User-Agent", value: "slipway-health")
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(nanos)) {
                    promise.fail(ProbeFailure(description: "no answer within \(timeout)"))
                    channel.close(promise: nil)
                }
                promise.futureResult.whenComplete { _ in deadline.cancel() }
                return promise.futureResult
            }.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        if response.keepAlive {
            let extra = idle.withLock { idle -> (any Channel)? in
                let previous = idle[port]?.channel
                idle[port] = entry
                return previous
            }
            extra?.close(promise: nil)
        } else {
            channel.close(promise: nil)
        }
        return response.0
    }

    /// Closes the kept connection to a port (its instance stopped).
    public func forget(port: Int) {
        idle.withLock { $0.removeValue(forKey: port) }?.channel.close(promise: nil)
    }

    func connect(port: Int, timeoutNanos: Int64) async throws -> any Channel {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(timeoutNanos))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ProbeResponseHandler())
                    }
                }
                .connect(to: address).get()
        } catch {
            throw ProbeFailure(description: "cannot connect to 127.0.0.1:\(port): \(error)")
        }
    }
}

public struct ProbeFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Collects one response at a time (a probe waits for its answer before the next is sent); the connection
/// closing or failing mid-probe fails it.
final class ProbeResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    var pending: EventLoopPromise<(KeepAliveProbeClient.Response, keepAlive: Bool)>?
    var head: HTTPResponseHead?
    var body: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
        case .body(var buffer):
            if body.count < 4096, let bytes = buffer.readBytes(length: min(buffer.readableBytes, 4096 - body.count)) { body += bytes }
        case .end:
            guard let h = head, let promise = pending else { return }
            head = nil
            pending = nil
            let response = KeepAliveProbeClient.Response(status: Int(h.status.code), reason: h.status.reasonPhrase, body: String(decoding: body, as: UTF8.self))
            promise.succeed((response, keepAlive: h.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ProbeFailure(description: "the instance closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        pending?.fail(error)
        pending = nil
    }
}
